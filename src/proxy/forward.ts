/**
 * One attempt against one upstream: `fetch` with the client's abort tied in and the per-service
 * timeouts (headers, idle gap between chunks, total), then either a committed response whose body
 * is tracked to its end, or a failure that happened before any byte reached the client (and so may
 * be retried elsewhere).
 *
 * The first body chunk is read before the response is committed: a backend that accepts the
 * connection and dies before producing anything is then a retryable failure, not a broken stream.
 *
 * @module
 */

import type { TimeoutConfig } from "../config/types.ts";
import { GatewayError } from "../errors.ts";
import type { Clock, UpstreamCall } from "../types.ts";
import type { HeaderList } from "../header_list.ts";
import { type ChunkReader, chunkReader } from "./chunk_reader.ts";
import type { DeadlineSweep, Watch } from "./deadlines.ts";
import { responseHeaders } from "./headers.ts";
import { stripUsageEvents, usageStripper } from "./stream_usage.ts";
import { type BodyEnd, trackBody } from "./tracked_body.ts";
import { clientErrorResponse, concat, endsWithDone, errorSnippet, parseRetryAfter } from "./upstream_body.ts";

/** Why an attempt failed before committing (`shutdown`: cut by the gateway at its shutdown deadline). */
export type FailureKind = "connect" | "timeout" | "status" | "body" | "abort" | "shutdown";

/** How an attempt ended, reported exactly once. */
export interface Settlement {
  /** `ignored`: an answer that says nothing about the instance's health (4xx). */
  readonly outcome: "success" | "failure" | "ignored" | "abort";
  readonly kind?: FailureKind;
  readonly status?: number;
  /** Upstream time to first body byte (ms), when one arrived. */
  readonly ttfbMs?: number;
  /** The last chunks of the body, for usage accounting. */
  readonly tail: readonly Uint8Array[];
  /** Upstream `Retry-After` in ms, when it sent one with a 429/503. */
  readonly retryAfterMs?: number;
}

/** A failure before commit. */
export interface AttemptFailure {
  readonly type: "failed";
  readonly kind: FailureKind;
  readonly message: string;
  readonly status?: number;
  /** Upstream `Retry-After` in ms (429/503). */
  readonly retryAfterMs?: number;
}

/** A committed response (2xx, or an upstream 4xx passed through as it came). */
export interface AttemptResponse {
  readonly type: "response";
  readonly response: Response;
}

/** Inputs of {@linkcode forward}. */
export interface ForwardOptions {
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  readonly call: UpstreamCall;
  readonly timeouts: TimeoutConfig;
  /** Aborts when the client goes away. */
  readonly clientSignal: AbortSignal;
  /**
   * Aborts when the gateway cuts what is still running at its shutdown deadline; the reason (a
   * `ShuttingDownError`) becomes the final SSE error event of a stream. The instance is not blamed.
   */
  readonly shutdownSignal?: AbortSignal;
  /** Receives the attempt's end exactly once (failures: before `forward` returns). */
  readonly settle: (s: Settlement) => void;
  /** Headers added to the client response. */
  readonly extraHeaders?: Readonly<Record<string, string>>;
  /** Remove the usage-only event the gateway asked for from a successful stream. */
  readonly stripUsage?: boolean;
  /** Where the attempt's deadlines are watched. */
  readonly deadlines: DeadlineSweep;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** Largest declared JSON answer read whole instead of streamed (embeddings of big batches fit). */
const WHOLE_BODY_MAX = 8 * 1024 * 1024;

/** A committed answer carrying the gateway's response headers. */
function committed(body: BodyInit | null, status: number, headers: HeaderList): AttemptResponse {
  return { type: "response", response: new Response(body, { status, headers: headers.toInit() }) };
}

/**
 * The SSE event a client gets when the stream fails mid-way (OpenAI SDKs raise it): the upstream
 * broke, or the gateway cut it (a `GatewayError` reason, e.g. at the shutdown deadline).
 */
function sseError(error: unknown): Uint8Array {
  const message = error instanceof Error && error.message ? error.message : "upstream stream failed";
  const body = error instanceof GatewayError ? { error: { message, type: error.type, code: error.code } } : {
    error: {
      message: `Upstream stream ended abnormally: ${message}`,
      type: "upstream_error",
      code: "upstream_stream_error",
    },
  };
  return ENCODER.encode(`data: ${JSON.stringify(body)}\n\n`);
}

/**
 * Runs one attempt. Never throws for upstream trouble: failures come back as values.
 */
export async function forward(o: ForwardOptions): Promise<AttemptResponse | AttemptFailure> {
  const { call, timeouts, clock } = o;
  const sweep = o.deadlines;
  const started = clock();
  const ctrl = new AbortController();
  let timedOut: string | undefined;
  let settled = false;

  const onClientAbort = () => ctrl.abort(o.clientSignal.reason);
  o.clientSignal.addEventListener("abort", onClientAbort, { once: true });
  const shutdown = o.shutdownSignal;
  const onShutdown = () => ctrl.abort(shutdown!.reason);
  if (shutdown?.aborted) onShutdown();
  else shutdown?.addEventListener("abort", onShutdown, { once: true });

  // Headers must arrive within connect + first-byte (fetch does not expose the connect phase);
  // then the body may pause at most `idle` between chunks; `total` bounds the whole attempt.
  const t0 = sweep.now();
  const totalAt = timeouts.totalMs > 0 ? t0 + timeouts.totalMs : Infinity;
  const headerAt = timeouts.firstByteMs > 0 ? t0 + timeouts.connectMs + timeouts.firstByteMs : Infinity;
  let phase: "first-byte" | "idle" = "first-byte";
  const watch: Watch = {
    due: Math.min(totalAt, headerAt),
    expire() {
      timedOut = watch.due === totalAt ? "total" : phase;
      ctrl.abort(new DOMException(`upstream ${timedOut} timeout`, "TimeoutError"));
    },
  };
  sweep.add(watch);
  /** Headers arrived: from now on the idle gap is watched, re-armed by `touch` on every chunk. */
  const startIdle = () => {
    phase = "idle";
    watch.due = timeouts.idleMs > 0 ? Math.min(totalAt, sweep.now() + timeouts.idleMs) : totalAt;
    sweep.moved(watch);
  };
  const touch = timeouts.idleMs > 0
    ? () => (watch.due = Math.min(totalAt, sweep.now() + timeouts.idleMs))
    : undefined;

  const settle = (s: Settlement) => {
    if (settled) return;
    settled = true;
    sweep.delete(watch);
    o.clientSignal.removeEventListener("abort", onClientAbort);
    shutdown?.removeEventListener("abort", onShutdown);
    o.settle(s);
  };
  const fail = (
    kind: FailureKind,
    message: string,
    status?: number,
    retryAfterMs?: number,
  ): AttemptFailure => {
    const outcome = kind === "abort" || kind === "shutdown" ? "abort" : "failure";
    settle({ outcome, kind, status, retryAfterMs, tail: [] });
    return { type: "failed", kind, message, status, retryAfterMs };
  };
  const classify = (error: unknown): AttemptFailure => {
    if (shutdown?.aborted) return fail("shutdown", "the gateway is shutting down");
    if (o.clientSignal.aborted) return fail("abort", "client closed the connection");
    if (timedOut) return fail("timeout", `upstream ${timedOut} timeout`);
    const msg = error instanceof Error ? error.message : String(error);
    return fail("connect", msg);
  };
  const bodyFailure = (error: unknown): AttemptFailure => {
    const f = classify(error);
    return f.kind === "connect" ? { ...f, kind: "body", message: `upstream body failed: ${f.message}` } : f;
  };

  let res: Response;
  try {
    res = await o.fetch(call.url, {
      method: call.method,
      headers: call.headers.toInit(),
      body: call.body,
      signal: ctrl.signal,
    });
  } catch (error) {
    return classify(error);
  }
  startIdle();

  if (res.status >= 500 || res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), clock());
    const snippet = await errorSnippet(res);
    return fail(
      "status",
      `upstream answered ${res.status}${snippet ? `: ${snippet}` : ""}`,
      res.status,
      retryAfterMs,
    );
  }

  const headers = responseHeaders(res.headers);
  if (o.extraHeaders) { for (const k in o.extraHeaders) headers.set(k, o.extraHeaders[k]); }

  if (res.status >= 400) {
    // The client's own mistake (4xx): passed on, in OpenAI's error shape whatever the backend's.
    const response = await clientErrorResponse(res, headers);
    settle({ outcome: "ignored", status: res.status, tail: [] });
    return { type: "response", response };
  }

  if (!res.body) {
    settle({ outcome: res.ok ? "success" : "ignored", status: res.status, tail: [] });
    return committed(null, res.status, headers);
  }

  // A small JSON answer with a declared length is no stream: read it in one go (one native read
  // instead of a JS stream per chunk — the profile's largest avoidable cost), then commit.
  const contentType = headers.get("content-type") ?? "";
  const json = /json/i.test(contentType);
  const length = Number(res.headers.get("content-length") ?? NaN);
  if (length <= WHOLE_BODY_MAX && json) {
    let bytes: Uint8Array;
    try {
      bytes = await res.bytes();
    } catch (error) {
      return bodyFailure(error);
    }
    return wholeJson(o, bytes, headers, res.status, clock() - started, settle);
  }

  // Read the first chunk before committing, so an upstream that dies before any byte is retryable.
  const reader = chunkReader(res.body);
  let first: Uint8Array | undefined;
  try {
    first = await reader.read();
  } catch (error) {
    reader.cancel().catch(() => {});
    return bodyFailure(error);
  }
  const ttfbMs = clock() - started;
  const verdict = res.ok ? "success" : "ignored";

  if (first === undefined) {
    settle({ outcome: verdict, status: res.status, ttfbMs, tail: [] });
    return committed(null, res.status, headers);
  }

  if (res.ok && call.mapJson && json) {
    return await mapJsonBody(o, reader, first, headers, res.status, ttfbMs, settle, bodyFailure);
  }

  const mapped = res.ok && !!call.mapStream;
  const sse = contentType.startsWith("text/event-stream") || mapped;
  // Usage is stripped in the relay itself, unless an adapter's mapper comes first.
  const strip = res.ok && o.stripUsage === true;
  let body: ReadableStream<Uint8Array> = trackBody(reader, {
    first,
    onChunk: touch,
    onCancel: () => ctrl.abort(new DOMException("client closed the connection", "AbortError")),
    errorEvent: sse ? sseError : undefined,
    filter: strip && !mapped ? usageStripper() : undefined,
    onEnd: (end: BodyEnd, tail) => {
      // A client that hangs up right after `data: [DONE]` got the whole answer.
      const complete = end.outcome === "success" || (sse && endsWithDone(tail));
      if (complete) settle({ outcome: verdict, status: res.status, ttfbMs, tail });
      else if (shutdown?.aborted) {
        settle({ outcome: "abort", kind: "shutdown", status: res.status, ttfbMs, tail });
      } else if (end.outcome === "abort" || o.clientSignal.aborted) {
        settle({ outcome: "abort", kind: "abort", status: res.status, ttfbMs, tail });
      } else {
        settle({ outcome: "failure", kind: timedOut ? "timeout" : "body", status: res.status, ttfbMs, tail });
      }
    },
  });
  if (mapped) {
    body = body.pipeThrough(call.mapStream!());
    if (strip) body = body.pipeThrough(stripUsageEvents());
    headers.set("content-type", call.streamContentType ?? "text/event-stream");
  }
  return committed(body, res.status, headers);
}

/** Reads the rest of a JSON answer whose length was not declared, then commits it whole. */
async function mapJsonBody(
  o: ForwardOptions,
  reader: ChunkReader,
  first: Uint8Array,
  headers: HeaderList,
  status: number,
  ttfbMs: number,
  settle: (s: Settlement) => void,
  bodyFailure: (e: unknown) => AttemptFailure,
): Promise<AttemptResponse | AttemptFailure> {
  const parts = [first];
  try {
    for (let part = await reader.read(); part !== undefined; part = await reader.read()) parts.push(part);
  } catch (error) {
    return bodyFailure(error);
  }
  return wholeJson(o, concat(parts), headers, status, ttfbMs, settle);
}

/** Commits a whole JSON answer, rewritten by the adapter's `mapJson` when it has one. */
function wholeJson(
  o: ForwardOptions,
  bytes: Uint8Array,
  headers: HeaderList,
  status: number,
  ttfbMs: number,
  settle: (s: Settlement) => void,
): AttemptResponse | AttemptFailure {
  let out = bytes;
  if (o.call.mapJson && status < 300) {
    try {
      out = ENCODER.encode(JSON.stringify(o.call.mapJson(JSON.parse(DECODER.decode(bytes)))));
    } catch (error) {
      settle({ outcome: "failure", kind: "body", status, ttfbMs, tail: [] });
      const msg = error instanceof Error ? error.message : String(error);
      return {
        type: "failed",
        kind: "body",
        message: `upstream answered with an unreadable body: ${msg}`,
        status,
      };
    }
    headers.set("content-type", "application/json");
  }
  settle({
    outcome: status < 300 ? "success" : "ignored",
    status,
    ttfbMs,
    tail: [out.subarray(Math.max(0, out.byteLength - 1024))],
  });
  return committed(out as Uint8Array<ArrayBuffer>, status, headers);
}
