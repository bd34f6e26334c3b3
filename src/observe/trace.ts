/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) for the `traceparent` header, and
 * request ids. All randomness comes from the injected {@linkcode Random}.
 *
 * The gateway continues the caller's trace when a valid `traceparent` arrives (same trace id, a
 * new span id for its own hop) and starts a new one otherwise. `tracestate` is vendor data the
 * gateway does not interpret: the proxy forwards it unchanged (spec §3.3).
 *
 * @module
 */

import type { Random } from "../types.ts";

/** One hop of a trace. Ids are lowercase hex: 32 digits for the trace, 16 for the span. */
export interface TraceContext {
  /** 16-byte trace id shared by every hop of the trace. */
  readonly traceId: string;
  /** 8-byte id of this hop (the `parent-id` field when sent downstream). */
  readonly spanId: string;
  /** The caller's span id, when this context continues an incoming trace. */
  readonly parentSpanId?: string;
  /** `trace-flags`; bit 0 (`0x01`) = sampled. */
  readonly flags: number;
}

const HEX = "0123456789abcdef";
const TRACEPARENT_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// Future versions (spec §4.3 "Versioning"): parse the version-00 prefix, and allow only more
// dash-separated fields after it.
const TRACEPARENT_FUTURE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** Flags of a trace this gateway starts: sampled, since every request is recorded in the access log. */
export const DEFAULT_TRACE_FLAGS = 0x01;

/**
 * Parses a `traceparent` header; `undefined` for an absent or invalid one (the spec says to then
 * start a new trace, not to fail the request).
 *
 * Rejected: uppercase hex, wrong lengths, all-zero trace or span ids, version `ff`, and a
 * version-00 header with trailing data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTraceparent } from "./trace.ts";
 *
 * const ctx = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * assert.deepEqual(ctx, {
 *   traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
 *   spanId: "00f067aa0ba902b7",
 *   flags: 1,
 * });
 * assert.equal(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), undefined);
 * ```
 */
export function parseTraceparent(header: string | null | undefined): TraceContext | undefined {
  if (typeof header !== "string") return undefined;
  const value = header.trim();
  let traceId: string, spanId: string, flags: string;
  const m = TRACEPARENT_00.exec(value);
  if (m !== null) {
    [, traceId, spanId, flags] = m;
  } else {
    const f = TRACEPARENT_FUTURE.exec(value);
    if (f === null || f[1] === "00" || f[1] === "ff") return undefined;
    [, , traceId, spanId, flags] = f;
  }
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

/** `bytes` random bytes as lowercase hex, never all zero (the spec forbids all-zero ids). */
function randomHex(bytes: number, random: Random): string {
  // Character codes go into a scratch array made a string once: one string instead of one per
  // character (`String.fromCharCode`, not a `TextDecoder`: no native call for a short ASCII id).
  const out = bytes === 8 ? SCRATCH_16 : bytes === 16 ? SCRATCH_32 : new Array<number>(bytes * 2);
  let zero = true;
  for (let i = 0; i < bytes; i++) {
    const b = Math.floor(random() * 256) & 0xff;
    if (b !== 0) zero = false;
    out[2 * i] = HEX_CODES[b >> 4];
    out[2 * i + 1] = HEX_CODES[b & 15];
  }
  // Only a broken or constant source gets here; a valid id still beats an invalid header.
  if (zero) out[out.length - 1] = HEX_CODES[1];
  return String.fromCharCode.apply(null, out);
}

/** Reused by {@linkcode randomHex} and {@linkcode requestId}: character codes of one id. */
const SCRATCH_16: number[] = new Array(16).fill(0);
const SCRATCH_32: number[] = new Array(32).fill(0);
const HEX_CODES = new TextEncoder().encode(HEX);

/**
 * The context for this gateway's hop: the parent's trace id and flags (or a new random trace id,
 * sampled), and a new random span id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTraceContext, formatTraceparent, parseTraceparent } from "./trace.ts";
 *
 * let seed = 1;
 * const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
 * const parent = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * const ctx = createTraceContext(parent, random);
 * assert.equal(ctx.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
 * assert.equal(ctx.parentSpanId, "00f067aa0ba902b7");
 * assert.notEqual(ctx.spanId, "00f067aa0ba902b7");
 * assert.match(formatTraceparent(ctx), /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
 * ```
 */
export function createTraceContext(parent: TraceContext | undefined, random: Random): TraceContext {
  const spanId = randomHex(8, random);
  if (parent === undefined) return { traceId: randomHex(16, random), spanId, flags: DEFAULT_TRACE_FLAGS };
  return { traceId: parent.traceId, spanId, parentSpanId: parent.spanId, flags: parent.flags & 0xff };
}

/**
 * The `traceparent` value to send downstream for `ctx` (always version 00, the version this
 * implementation speaks).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTraceparent } from "./trace.ts";
 *
 * assert.equal(
 *   formatTraceparent({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 }),
 *   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 * );
 * ```
 */
export function formatTraceparent(ctx: TraceContext): string {
  const flags = ctx.flags & 0xff;
  return `00-${ctx.traceId}-${ctx.spanId}-${HEX[flags >> 4]}${HEX[flags & 15]}`;
}

const ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
/** Length of {@linkcode requestId}'s result: 16 base-36 characters ≈ 82 bits. */
export const REQUEST_ID_LENGTH = 16;

/**
 * A short random request id (16 lowercase base-36 characters), safe in headers, URLs and logs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestId } from "./trace.ts";
 *
 * assert.match(requestId(() => 0.5), /^[0-9a-z]{16}$/);
 * ```
 */
export function requestId(random: Random): string {
  const out = SCRATCH_16;
  for (let i = 0; i < REQUEST_ID_LENGTH; i++) {
    out[i] = ID_CODES[Math.min(35, Math.max(0, Math.floor(random() * 36) | 0))];
  }
  return String.fromCharCode.apply(null, out);
}

const ID_CODES = new TextEncoder().encode(ID_ALPHABET);
