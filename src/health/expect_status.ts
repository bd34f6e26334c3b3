/**
 * `health-check.expect-status`: which HTTP statuses of a probe count as "up".
 *
 * A probe asks "is the server there?", not "did my request succeed?". So by default any answer
 * below 500 is alive ({@linkcode DEFAULT_EXPECT_STATUS}): a `404` on the probe path means the
 * server runs but lacks that route (another engine, another version, a gateway prefix), a `401`
 * means it wants a key, a `429` that it is busy — none of them says the instance cannot serve.
 * Only `5xx` (RFC 9110 §15.6: the server says it cannot serve), timeouts and network errors are
 * "down". An operator who wants more can write the statuses they expect:
 *
 * | written                      | means                                  |
 * | ---------------------------- | -------------------------------------- |
 * | `200`                        | exactly 200                            |
 * | `2xx`                        | 200–299                                |
 * | `200-399`                    | 200–399, both ends included            |
 * | `[200, 204, "3xx"]`          | any of them                            |
 * | `"200, 204"`                 | the same list as one string            |
 *
 * Statuses are 100–599 (RFC 9110 §15).
 *
 * @module
 */

import type { StatusRange } from "../types.ts";

/** Any answer below 500: the default verdict of a probe. */
export const DEFAULT_EXPECT_STATUS: readonly StatusRange[] = Object.freeze([
  Object.freeze([100, 499] as const),
]);

/** A parsed `expect-status`, or why it is not one (worded to follow a key path). */
export type ExpectStatusResult =
  | { readonly ok: true; readonly value: readonly StatusRange[] }
  | { readonly ok: false; readonly error: string };

const CLASS = /^([1-5])xx$/i;
const RANGE = /^(\d{3})\s*-\s*(\d{3})$/;
const SINGLE = /^\d{3}$/;
const SHAPE = 'a status (200), a class ("2xx"), a range ("200-399") or a list of them';

function isStatus(n: number): boolean {
  return Number.isInteger(n) && n >= 100 && n <= 599;
}

function parseOne(item: unknown): StatusRange | string {
  if (typeof item === "number") {
    return isStatus(item) ? [item, item] : `must hold statuses 100-599, received ${item}`;
  }
  if (typeof item !== "string") return `must be ${SHAPE}, received ${describe(item)}`;
  const text = item.trim();
  const cls = CLASS.exec(text);
  if (cls) return [Number(cls[1]) * 100, Number(cls[1]) * 100 + 99];
  if (SINGLE.test(text)) return parseOne(Number(text));
  const range = RANGE.exec(text);
  if (range) {
    const lo = Number(range[1]), hi = Number(range[2]);
    if (!isStatus(lo) || !isStatus(hi)) return `must hold statuses 100-599, received ${JSON.stringify(item)}`;
    if (lo > hi) return `range must run low to high, received ${JSON.stringify(item)}`;
    return [lo, hi];
  }
  return `must be ${SHAPE}, received ${JSON.stringify(item)}`;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "a mapping" : String(v);
}

/**
 * Parses an `expect-status` value as written in YAML (see the module table).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseExpectStatus } from "./expect_status.ts";
 *
 * assert.deepEqual(parseExpectStatus(["2xx", 304]), { ok: true, value: [[200, 299], [304, 304]] });
 * assert.deepEqual(parseExpectStatus("200-399"), { ok: true, value: [[200, 399]] });
 * assert.equal(parseExpectStatus("ok").ok, false);
 * ```
 */
export function parseExpectStatus(value: unknown): ExpectStatusResult {
  const items = Array.isArray(value)
    ? value
    : typeof value === "string" && value.includes(",")
    ? value.split(",")
    : [value];
  if (items.length === 0) return { ok: false, error: `must be ${SHAPE}, received an empty list` };
  const out: StatusRange[] = [];
  for (const item of items) {
    const r = parseOne(item);
    if (typeof r === "string") return { ok: false, error: r };
    out.push(r);
  }
  return { ok: true, value: out };
}

/**
 * Whether `status` is one of `expected` (absent: {@linkcode DEFAULT_EXPECT_STATUS}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isExpectedStatus } from "./expect_status.ts";
 *
 * assert(isExpectedStatus(404) && isExpectedStatus(401)); // answered: alive
 * assert(!isExpectedStatus(503));
 * assert(!isExpectedStatus(404, [[200, 299]]));
 * ```
 */
export function isExpectedStatus(
  status: number,
  expected: readonly StatusRange[] = DEFAULT_EXPECT_STATUS,
): boolean {
  if (!Number.isInteger(status)) return false;
  for (const [lo, hi] of expected) if (status >= lo && status <= hi) return true;
  return false;
}
