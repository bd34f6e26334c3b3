/**
 * Durations and sizes as operators write them: a bare number is milliseconds (the seed's
 * `timeout: 60000`) or bytes, a string may carry a unit (`"30s"`, `"500ms"`, `"10m"`, `"10mb"`).
 * Sizes use binary multiples, as Spring's `DataSize` does (`1kb` = 1024 bytes).
 *
 * @module
 */

/** A parsed value, or the reason it is not one (worded to follow a key path). */
export type UnitResult = { readonly ok: true; readonly value: number } | {
  readonly ok: false;
  readonly error: string;
};

const DURATION_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const QUANTITY = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/;

/** Renders a received value for a message: strings quoted, numbers and booleans bare. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}

function parseQuantity(
  value: unknown,
  units: Readonly<Record<string, number>>,
  expected: string,
): UnitResult {
  if (typeof value === "number") {
    if (Number.isFinite(value)) return { ok: true, value };
    return { ok: false, error: `must be ${expected}, received ${describeValue(value)}` };
  }
  if (typeof value === "string") {
    const match = QUANTITY.exec(value.trim().toLowerCase());
    const factor = match ? units[match[2]] : undefined;
    if (match && factor !== undefined) return { ok: true, value: Math.round(Number(match[1]) * factor) };
  }
  return { ok: false, error: `must be ${expected}, received ${describeValue(value)}` };
}

/**
 * Parses a duration into milliseconds: numbers are ms; strings take `ms`, `s`, `m`, `h` or `d`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./units.ts";
 * const r = parseDuration("1.5s");
 * assert(r.ok && r.value === 1500);
 * assert(!parseDuration("soon").ok);
 * ```
 */
export function parseDuration(value: unknown): UnitResult {
  return parseQuantity(value, DURATION_UNITS, 'a duration in ms or a string like "500ms", "30s", "10m"');
}

/**
 * Parses a size into bytes: numbers are bytes; strings take `b`, `kb`, `mb` or `gb` (binary).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSize } from "./units.ts";
 * const r = parseSize("10mb");
 * assert(r.ok && r.value === 10 * 1024 * 1024);
 * ```
 */
export function parseSize(value: unknown): UnitResult {
  return parseQuantity(value, SIZE_UNITS, 'a size in bytes or a string like "512kb", "10mb"');
}
