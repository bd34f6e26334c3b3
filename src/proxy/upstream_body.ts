/**
 * Reading the small upstream bodies the gateway must look at: error answers (bounded, for
 * messages and OpenAI-shaped 4xx), `Retry-After`, and whether a stream reached `data: [DONE]`.
 *
 * @module
 */

import type { HeaderList } from "../header_list.ts";
import type { ChunkReader } from "./chunk_reader.ts";
import { isErrorEvent, upstreamErrorMessage } from "../adapters/mod.ts";
import { MAX_PARK_MS } from "../breaker/mod.ts";

const DECODER = new TextDecoder();

/** Joins chunks into one buffer (no copy for a single chunk). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** What {@linkcode readToEnd} read. */
export interface ReadToEnd {
  /** The bytes read: all of them, or (not `complete`) the first ones past `max`. */
  readonly bytes: Uint8Array;
  /** False when the reader had more than `max` bytes: the rest is still unread. */
  readonly complete: boolean;
}

const NO_BYTES = new Uint8Array(0);

/**
 * Reads `reader` to its end (after `first`, when a chunk was already read) into one growing
 * buffer, telling `progress` of every chunk. A list of chunks would cost a few hundred bytes each
 * whatever their size: an upstream sending 1-byte chunks made that ~400× the body. Stops past
 * `max` bytes, leaving the rest to the caller. Throws what the reader throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkReader } from "./chunk_reader.ts";
 * import { readToEnd } from "./upstream_body.ts";
 * const { bytes, complete } = await readToEnd(chunkReader(new Response("bc").body!), 10, undefined, new TextEncoder().encode("a"));
 * assert.equal(new TextDecoder().decode(bytes), "abc");
 * assert.equal(complete, true);
 * ```
 */
export async function readToEnd(
  reader: ChunkReader,
  max: number,
  progress?: { chunk(): void },
  first: Uint8Array = NO_BYTES,
): Promise<ReadToEnd> {
  let buffer = new Uint8Array(
    Math.max(first.byteLength, Math.min(max, Math.max(64 * 1024, 2 * first.byteLength))),
  );
  buffer.set(first);
  let size = first.byteLength;
  for (let part = await reader.read(); part !== undefined; part = await reader.read()) {
    progress?.chunk();
    const next = size + part.byteLength;
    if (next > max) return { bytes: concat([buffer.subarray(0, size), part]), complete: false };
    if (next > buffer.byteLength) {
      const grown = new Uint8Array(Math.min(max, 2 * next));
      grown.set(buffer.subarray(0, size));
      buffer = grown;
    }
    buffer.set(part, size);
    size = next;
  }
  return { bytes: buffer.subarray(0, size), complete: true };
}

/**
 * Parses `Retry-After` (delay-seconds or an HTTP date, RFC 9110 §10.2.3) into ms, at most `max`:
 * by default {@linkcode MAX_PARK_MS}, the longest the wait parks the instance, so that what the
 * gateway tells its own clients (the 503's or 429's `Retry-After`) matches when it tries the
 * instance again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRetryAfter } from "./upstream_body.ts";
 * assert(parseRetryAfter("3", 0) === 3000 && parseRetryAfter(null, 0) === undefined);
 * assert.equal(parseRetryAfter("86400", 0), 300_000); // a day asked, 5 minutes kept
 * ```
 */
export function parseRetryAfter(value: string | null, now: number, max = MAX_PARK_MS): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(max, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.min(max, Math.max(0, date - now));
}

/** Reads at most about `max` bytes of a body and releases the connection. */
async function readPrefix(res: Response, max: number): Promise<{ bytes: Uint8Array; complete: boolean }> {
  if (!res.body) return { bytes: new Uint8Array(0), complete: true };
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      parts.push(value);
      size += value.byteLength;
    }
  } catch { /* a broken error body still tells us the status */ }
  if (!complete) reader.cancel().catch(() => {});
  return { bytes: concat(parts), complete };
}

/** The first 2 KiB of an error body on one line, for messages. */
export async function errorSnippet(res: Response, max = 2048): Promise<string> {
  const { bytes } = await readPrefix(res, max);
  return DECODER.decode(bytes).slice(0, max).replace(/\s+/g, " ").trim();
}

function isOpenAIError(v: unknown): boolean {
  const error = (v as { error?: { message?: unknown } } | null)?.error;
  return typeof error === "object" && error !== null && typeof error.message === "string";
}

/**
 * An upstream 4xx for the client: passed through byte for byte when it already is an OpenAI error,
 * otherwise (Ollama's `{error: "…"}`, FastAPI's `{detail}`, plain text) rewritten into OpenAI's
 * shape with the backend's message and the same status.
 */
export async function clientErrorResponse(res: Response, headers: HeaderList): Promise<Response> {
  const { bytes, complete } = await readPrefix(res, 64 * 1024);
  const text = DECODER.decode(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch { /* not JSON: the text is the message */ }
  if (complete && isOpenAIError(parsed)) {
    return new Response(bytes as Uint8Array<ArrayBuffer>, { status: res.status, headers: headers.toInit() });
  }
  const message = upstreamErrorMessage(parsed ?? text.slice(0, 2048)) ??
    `The upstream answered ${res.status}.`;
  headers.set("content-type", "application/json");
  const body = {
    error: { message, type: "invalid_request_error", code: `upstream_${res.status}`, param: null },
  };
  return new Response(JSON.stringify(body), { status: res.status, headers: headers.toInit() });
}

/**
 * True when the last chunks of an SSE body end with `data: [DONE]` (the answer was complete). The
 * marker may straddle chunks: a read that fills the relay's buffer splits one, a slow network more.
 */
export function endsWithDone(tail: readonly Uint8Array[]): boolean {
  let text = "";
  for (let i = tail.length - 1; i >= 0 && text.length < 64; i--) {
    const chunk = tail[i];
    text = DECODER.decode(chunk.subarray(Math.max(0, chunk.byteLength - 64))) + text;
  }
  return /data: ?\[DONE\]\s*$/.test(text);
}

/** Bytes of each tail chunk {@linkcode reportedError} reads: the last events, not a whole body. */
const TAIL_SCAN = 4096;

/**
 * The error an upstream reported in the last events of a stream that otherwise ended well —
 * vLLM sends `data: {"error": …}` (then `data: [DONE]`) when generation fails mid-way, Ollama a
 * last `{"error": …}` line; natively relayed dialects their own (Anthropic's and Responses'
 * `error` event, Responses' `response.failed`) — as its message; `undefined` when there is none. The client got that
 * event as it came; this is for the access log and the instance's breaker and health. Reads at
 * most 4 KiB of each tail chunk, once, when the stream ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportedError } from "./upstream_body.ts";
 * const enc = new TextEncoder();
 * assert.equal(reportedError([enc.encode('data: {"error":{"message":"CUDA out of memory"}}\n\ndata: [DONE]\n\n')], true), "CUDA out of memory");
 * assert.equal(reportedError([enc.encode('{"error":"model unloaded"}\n')], false), "model unloaded");
 * assert.equal(reportedError([enc.encode('event: response.failed\ndata: {"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"overloaded"}}}\n\n')], true), "overloaded");
 * assert.equal(reportedError([enc.encode('data: {"choices":[{"delta":{"content":"\\"error\\""}}]}\n\n')], true), undefined);
 * ```
 */
export function reportedError(tail: readonly Uint8Array[], sse: boolean): string | undefined {
  let text = "";
  for (const chunk of tail) text += DECODER.decode(chunk.subarray(Math.max(0, chunk.byteLength - TAIL_SCAN)));
  // A key: inside a string the quotes would be escaped (`\"error\"`).
  if (!text.includes('"error"')) return undefined;
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (sse) {
      if (!line.startsWith("data:")) continue;
      line = line.slice(5).trim();
    }
    if (!line.startsWith("{") || !line.includes('"error"')) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue; // the first line may be cut where the scan began
    }
    if (typeof value !== "object" || value === null) continue;
    const v = value as Record<string, unknown>;
    if (isErrorEvent(v) || v.type === "error") {
      return upstreamErrorMessage(v) ?? "the upstream reported an error";
    }
    // OpenAI Responses, relayed natively: the response's own failure.
    if (v.type === "response.failed") return upstreamErrorMessage(v.response) ?? "the response failed";
  }
  return undefined;
}
