/**
 * The shape every client dialect implements: a pure translator between what a client speaks
 * (Anthropic Messages, OpenAI Responses, Ollama's native API) and the OpenAI chat/embeddings
 * shape the rest of the gateway governs. The mirror of `Adapter`: adapters translate OpenAI
 * → backend, dialects translate client → OpenAI and back.
 *
 * How the request path wraps a dialect (`http/dialect_routes.ts`, `proxy/dialect_call.ts`):
 * 1. `parseRequest(bytes, env)` → a `DialectRequest` (an OpenAI body, its `model`, `stream`, the
 *    service and OpenAI route to dispatch as, and a `ctx` for the way back) or a `DialectFailure`
 *    answered with `errorBody(failure.status, failure.message)`.
 * 2. The OpenAI body goes through the existing governance and adapters unchanged.
 * 3. A JSON answer: `toResponse(openaiJson, ctx)`; a stream: piped through a fresh
 *    `streamTransformer(ctx)` (push-style, so the relay can call it inline per chunk).
 * 4. Any error (a `GatewayError` or an upstream 4xx/5xx) leaves as `errorBody(status, message)`.
 *
 * @module
 */

import type { Clock, ServiceKind } from "../types.ts";

/** Names of the client dialects; also the values of the metrics `dialect` label (beside `openai`). */
export const DIALECT_NAMES = ["anthropic", "responses", "ollama"] as const;

/** A client dialect's name. */
export type DialectName = typeof DIALECT_NAMES[number];

/** What a dialect may read from the outside world: injected, never global. */
export interface DialectEnv {
  /** Milliseconds since the epoch (ids, `created`, Ollama durations). */
  readonly clock: Clock;
  /** A fresh random id suffix (letters and digits), e.g. for `msg_…` and `resp_…`. */
  readonly randomId: () => string;
}

/** A request the dialect could not accept: a value, answered in the dialect's error shape. */
export interface DialectFailure {
  readonly ok: false;
  /** HTTP status (400 for bad input). */
  readonly status: number;
  readonly message: string;
  /** The offending field, when there is one. */
  readonly param?: string;
}

/** A translated request, ready for dispatch. */
export interface DialectRequest<C> {
  readonly ok: true;
  /** The OpenAI request body (chat completions or embeddings). */
  readonly body: Record<string, unknown>;
  /** The client's `model`, for routing. */
  readonly model: string;
  /** Whether the client asked for a stream (the translated body says the same). */
  readonly stream: boolean;
  /** The service the request belongs to. */
  readonly service: ServiceKind;
  /** The OpenAI route the translated body is for, e.g. `/v1/chat/completions`. */
  readonly route: string;
  /** What the way back needs to know (ids, request echo, tool names). Immutable. */
  readonly ctx: C;
}

/**
 * A push-style, chunk-at-a-time stream rewrite: the relay calls `push` for every upstream chunk
 * and sends what it returns at once. It keeps at most one partial upstream event between calls.
 */
export interface StreamTranslator {
  /** Bytes for the client for this upstream chunk (`undefined`: nothing yet). */
  push(chunk: Uint8Array): Uint8Array | undefined;
  /**
   * The upstream ended. Returns the closing events, or the dialect's error event when the
   * upstream stopped before it finished.
   */
  end(): Uint8Array | undefined;
  /** The upstream broke (network error, timeout): the dialect's error event, then nothing more. */
  fail(message: string): Uint8Array | undefined;
  /**
   * Why the translator ended the client's stream with its error event itself, if it did: the
   * upstream's own error event, an event that is not JSON, an endless line, a stream that closed
   * before its finish. The relay then lets the upstream go and records the failure.
   */
  failed?(): string | undefined;
}

/** A backend that speaks a dialect natively, so the request may pass through untranslated. */
export interface NativeEndpoint {
  /** The backend's path for this dialect, e.g. `/v1/messages`. */
  readonly path: string;
  /** Where the support was confirmed (source file, release). */
  readonly since: string;
}

/** One client endpoint: a route in a dialect, translated to one OpenAI route. */
export interface Dialect<C = unknown> {
  /** The dialect this endpoint belongs to (metrics label). */
  readonly name: DialectName;
  /** The client route, e.g. `/v1/messages`. */
  readonly route: string;
  /** The service the translated request is dispatched to. */
  readonly service: ServiceKind;
  /** The OpenAI route the translated request takes. */
  readonly upstreamRoute: string;
  /** Content type of a JSON answer. */
  readonly contentType: string;
  /** Content type of a streamed answer. */
  readonly streamContentType: string;
  /** Reads and translates the client's body. Never throws. */
  parseRequest(bytes: Uint8Array, env: DialectEnv): DialectRequest<C> | DialectFailure;
  /** Translates a successful OpenAI JSON answer. Throws `UpstreamError` for a malformed one. */
  toResponse(openai: unknown, ctx: C): unknown;
  /** A fresh translator from OpenAI SSE to the dialect's stream, one per response. */
  streamTransformer(ctx: C): StreamTranslator;
  /** The dialect's error body for a status and message (and the offending field, where the shape has one). */
  errorBody(status: number, message: string, param?: string): unknown;
  /** Backends known to serve this endpoint natively, keyed by adapter name. */
  readonly native: Readonly<Record<string, NativeEndpoint>>;
}
