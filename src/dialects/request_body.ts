/**
 * Reading a dialect's JSON request body and holding it to the dialect's field list: every
 * top-level field is either mapped, accepted and ignored for a documented reason, or refused
 * with a 400 that names it. A field on no list is refused too, so nothing is dropped silently.
 *
 * Translators throw {@linkcode Refusal} from deep inside; {@linkcode translate} turns it into the
 * `DialectFailure` value that `parseRequest` returns, so `parseRequest` itself never throws.
 *
 * @module
 */

import type { DialectFailure } from "./types.ts";

/** A JSON object. */
export type Json = Record<string, unknown>;

/** What a dialect does with one top-level field. */
export type FieldRule = "map" | "ignore" | { readonly refuse: string };

/** A dialect's complete field list. */
export type FieldRules = Readonly<Record<string, FieldRule>>;

/** Thrown by translators for input they cannot take; caught by {@linkcode translate}. */
export class Refusal extends Error {
  override name = "Refusal";
  constructor(message: string, readonly param?: string, readonly status = 400) {
    super(message);
  }
}

/** True for a plain JSON object. */
export function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * True for a field that is set: neither absent nor `null` (clients send explicit nulls for
 * defaults, which ask for nothing).
 */
export function isSet(v: unknown): v is NonNullable<unknown> {
  return v !== undefined && v !== null;
}

/** Throws a 400 {@linkcode Refusal}. */
export function refuse(message: string, param?: string): never {
  throw new Refusal(message, param);
}

const decoder = new TextDecoder();

/**
 * Parses the body as a JSON object with a non-empty string `model`, or throws a `Refusal`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readObject } from "./request_body.ts";
 * assert.equal(readObject(new TextEncoder().encode('{"model":"m"}')).model, "m");
 * assert.throws(() => readObject(new TextEncoder().encode("[1]")), /JSON object/);
 * ```
 */
export function readObject(bytes: Uint8Array, needsModel = true): Json {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    refuse("The request body is not valid JSON.");
  }
  if (!isRecord(value)) refuse("The request body must be a JSON object.");
  if (needsModel && (typeof value.model !== "string" || value.model === "")) {
    refuse('"model" is required and must be a non-empty string.', "model");
  }
  return value;
}

/**
 * Holds a body to a field list: throws a `Refusal` for a refused or unknown field. Fields whose
 * value is `null` or absent are never refused (clients send explicit nulls for defaults).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFields } from "./request_body.ts";
 * const rules = { model: "map", seed: { refuse: "no seed here" } } as const;
 * assert.doesNotThrow(() => checkFields({ model: "m", seed: null }, rules, "Messages"));
 * assert.throws(() => checkFields({ model: "m", seed: 1 }, rules, "Messages"), /no seed here/);
 * assert.throws(() => checkFields({ model: "m", x: 1 }, rules, "Messages"), /"x" is not supported/);
 * ```
 */
export function checkFields(body: Json, rules: FieldRules, api: string): void {
  for (const key in body) {
    const value = body[key];
    if (value === null || value === undefined) continue;
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (rule === undefined) {
      refuse(`"${key}" is not supported by this gateway's ${api} API (unknown fields are refused).`, key);
    }
    if (typeof rule === "object") refuse(`"${key}" is not supported: ${rule.refuse}`, key);
  }
}

/**
 * Runs a translation, turning a `Refusal` into the failure value `parseRequest` returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuse, translate } from "./request_body.ts";
 * const out = translate((): { ok: true } => refuse("bad", "x"));
 * assert(!out.ok && out.status === 400 && out.param === "x");
 * ```
 */
export function translate<T extends { readonly ok: true }>(fn: () => T): T | DialectFailure {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return error.param === undefined
      ? { ok: false, status: error.status, message: error.message }
      : { ok: false, status: error.status, message: error.message, param: error.param };
  }
}

/** A number field in [min, max], or a `Refusal` naming it. */
export function numberIn(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    refuse(`"${name}" must be a number from ${min} to ${max}, received ${JSON.stringify(value)}.`, name);
  }
  return value;
}

/** A positive integer field, or a `Refusal` naming it. */
export function positiveInt(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    refuse(`"${name}" must be an integer >= 1, received ${JSON.stringify(value)}.`, name);
  }
  return value;
}

/** A string-array field (or one string, when `single` allows it), or a `Refusal` naming it. */
export function stringList(value: unknown, name: string, single = false): string[] {
  if (single && typeof value === "string") return [value];
  if (!Array.isArray(value) || !value.every((s) => typeof s === "string")) {
    refuse(`"${name}" must be an array of strings.`, name);
  }
  return value;
}

/** An optional array field (`undefined` when unset), or a `Refusal` naming it. */
export function optionalArray(value: unknown, name: string): unknown[] | undefined {
  if (!isSet(value)) return undefined;
  if (!Array.isArray(value)) refuse(`"${name}" must be an array.`, name);
  return value;
}

/** The `stream` field: a boolean, or `absent` when unset; anything else is a `Refusal`. */
export function streamFlag(value: unknown, absent: boolean): boolean {
  if (!isSet(value)) return absent;
  if (typeof value !== "boolean") refuse('"stream" must be a boolean.', "stream");
  return value;
}

/**
 * Sets `stream` on the OpenAI body; a stream asks for the final usage chunk, which every
 * dialect reports in its closing event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setStream } from "./request_body.ts";
 * const out: Record<string, unknown> = {};
 * assert.equal(setStream(out, true), true);
 * assert.deepEqual(out, { stream: true, stream_options: { include_usage: true } });
 * ```
 */
export function setStream(out: Json, stream: boolean): boolean {
  out.stream = stream;
  if (stream) out.stream_options = { include_usage: true };
  return stream;
}
