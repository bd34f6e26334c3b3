/**
 * Building blocks shared by the schemas of `schema.ts` and `schema_access.ts`: Spring-style scalar
 * coercion (`"8080"` is a number, `"true"` a boolean, `TOKEN_BUCKET` is `token-bucket`), durations,
 * and the `rate-limit` block, which is written at four levels (global, service, instance, API key).
 *
 * @module
 */

import { z } from "zod";
import { LIMIT_ALGORITHMS, LIMIT_SCOPES } from "../types.ts";
import { parseDuration, parseSize, type UnitResult } from "./units.ts";

const NUMERIC = /^-?\d+(?:\.\d+)?$/;

/** An HTTP token (RFC 9110 §5.6.2): what a header name may be made of. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const toNumber = (v: unknown) => (typeof v === "string" && NUMERIC.test(v.trim()) ? Number(v.trim()) : v);
const toBoolean = (v: unknown) => {
  if (typeof v !== "string") return v;
  const t = v.trim().toLowerCase();
  return t === "true" ? true : t === "false" ? false : v;
};
const toEnum = (v: unknown) =>
  typeof v === "string"
    ? v.trim().replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase().replace(/_/g, "-")
    : v;

/**
 * Numbers and booleans as text (a model named `7` is the string `"7"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toText } from "./schema_common.ts";
 * assert(toText(7) === "7");
 * ```
 */
export const toText = (
  v: unknown,
): unknown => (typeof v === "number" || typeof v === "boolean" ? String(v) : v);

/** An optional number, also accepted as numeric text. */
export const num = (inner: z.ZodNumber) => z.preprocess(toNumber, inner).optional();
/** An optional integer in `[min, max]`, also accepted as numeric text. */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => num(z.number().int().min(min).max(max));
/** An optional boolean, also accepted as `"true"` / `"false"`. */
export const bool = () => z.preprocess(toBoolean, z.boolean()).optional();
/** An optional enum value, matched relaxed (`TOKEN_BUCKET`, `tokenBucket`, `token-bucket`). */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess(toEnum, z.enum(values)).optional();

/** A value read by a unit parser; its error message becomes the issue's. */
const unit = (parse: (v: unknown) => UnitResult) =>
  z.unknown().transform((v, ctx) => {
    const r = parse(v);
    if (!r.ok) {
      ctx.issues.push({ code: "custom", message: r.error, input: v });
      return z.NEVER;
    }
    return r.value;
  });

/** A duration in ms (number or `"30s"`), checked against a lower bound. */
export const duration = (min: number, inclusive = true) =>
  unit(parseDuration).pipe(inclusive ? z.number().min(min) : z.number().gt(min)).optional();

/** An optional byte size > 0: a number or `"25mb"`, `"512kb"`. */
export const size = () => unit(parseSize).pipe(z.number().gt(0)).optional();

export { LIMIT_ALGORITHMS, LIMIT_SCOPES };

/** One `rate-limit` block. Capacity (and rate, for the buckets) are required unless it is disabled. */
export const rateLimit = z.strictObject({
  enabled: bool(),
  algorithm: oneOf(LIMIT_ALGORITHMS),
  capacity: num(z.number().gt(0)),
  rate: num(z.number().gt(0)),
  window: duration(0, false),
  scope: oneOf(LIMIT_SCOPES),
  clientIpEnable: bool(),
  warmUp: z.strictObject({ period: duration(0, false), initialFraction: num(z.number().min(0).max(1)) })
    .optional(),
  maxKeys: int(1),
  unit: oneOf(["requests", "tokens"]),
}).superRefine((block, ctx) => {
  if (block.enabled === false) return;
  if (block.capacity === undefined) {
    ctx.addIssue({ code: "custom", path: ["capacity"], message: "is required" });
  }
  const algorithm = block.algorithm ?? "token-bucket";
  if (typeof algorithm === "string" && algorithm.endsWith("bucket") && block.rate === undefined) {
    ctx.addIssue({ code: "custom", path: ["rate"], message: `is required for ${algorithm}` });
  }
  if (block.warmUp && block.warmUp.period === undefined) {
    ctx.addIssue({ code: "custom", path: ["warmUp", "period"], message: "is required" });
  }
});
