/**
 * The short list of real errors, and the one place they become HTTP responses in OpenAI's error
 * shape (`{error: {message, type, code}}`, see the OpenAI API reference, "Error codes").
 *
 * Expected outcomes on the hot path (a limiter denial, no instance to pick) are values elsewhere;
 * these classes are for what ends a request.
 *
 * @module
 */

/** OpenAI error `type` values the gateway uses. */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error"
  | "upstream_error"
  | "timeout_error";

/**
 * Base class: an error with an HTTP status and an OpenAI `type`/`code`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GatewayError } from "./errors.ts";
 * const err = new GatewayError(418, "invalid_request_error", "teapot", "I am a teapot");
 * assert(err.status === 418);
 * ```
 */
export class GatewayError extends Error {
  override name = "GatewayError";
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** 400: the request is malformed or asks for something impossible. */
export class BadRequestError extends GatewayError {
  override name = "BadRequestError";
  constructor(message: string, code = "invalid_request", param: string | null = null) {
    super(400, "invalid_request_error", code, message, {}, param);
  }
}

/** 401: no or wrong credentials. */
export class UnauthorizedError extends GatewayError {
  override name = "UnauthorizedError";
  constructor(message = "Invalid or missing API key.") {
    super(401, "authentication_error", "invalid_api_key", message, { "www-authenticate": "Bearer" });
  }
}

/** 403: credentials are valid but not for this. */
export class ForbiddenError extends GatewayError {
  override name = "ForbiddenError";
  constructor(message: string) {
    super(403, "permission_error", "model_not_allowed", message);
  }
}

/** 404: unknown route or model. */
export class NotFoundError extends GatewayError {
  override name = "NotFoundError";
  constructor(message: string, code = "model_not_found", param: string | null = "model") {
    super(404, "invalid_request_error", code, message, {}, param);
  }
}

/** 413: the body exceeds `server.body-limit`. */
export class PayloadTooLargeError extends GatewayError {
  override name = "PayloadTooLargeError";
  constructor(limit: number) {
    super(
      413,
      "invalid_request_error",
      "payload_too_large",
      `Request body exceeds the limit of ${limit} bytes.`,
    );
  }
}

/** 408: the client stopped sending its request (`server.body-idle-timeout`, `server.body-timeout`). */
export class RequestTimeoutError extends GatewayError {
  override name = "RequestTimeoutError";
  constructor(message: string) {
    super(408, "timeout_error", "request_timeout", message, { connection: "close" });
  }
}

/** 503 with `Retry-After`: the gateway is receiving too much at once to take this request now. */
export class OverloadedError extends GatewayError {
  override name = "OverloadedError";
  constructor(message: string, retryAfterSeconds: number) {
    super(503, "server_error", "server_busy", message, { "retry-after": String(retryAfterSeconds) });
  }
}

/** 415: the content type does not fit the endpoint. */
export class UnsupportedMediaTypeError extends GatewayError {
  override name = "UnsupportedMediaTypeError";
  constructor(message: string) {
    super(415, "invalid_request_error", "unsupported_media_type", message);
  }
}

/** 429: a rate limit denied the request. */
export class RateLimitedError extends GatewayError {
  override name = "RateLimitedError";
  constructor(message: string, headers: Record<string, string>) {
    super(429, "rate_limit_error", "rate_limit_exceeded", message, headers);
  }
}

/**
 * 429: every instance that could serve the request is full (`max-concurrency`, or its engine's
 * queue above `queue.max-engine-queue`) and the admission queue is full too (or there is none).
 */
export class QueueFullError extends GatewayError {
  override name = "QueueFullError";
  constructor(message: string, retryAfterSeconds: number) {
    super(429, "rate_limit_error", "queue_full", message, { "retry-after": String(retryAfterSeconds) });
  }
}

/** 503: the request waited `queue.max-wait` in the admission queue without getting a slot. */
export class QueueTimeoutError extends GatewayError {
  override name = "QueueTimeoutError";
  constructor(message: string, retryAfterSeconds: number) {
    super(503, "server_error", "queue_timeout", message, { "retry-after": String(retryAfterSeconds) });
  }
}

/**
 * 499 (nginx's "client closed request"): the client left while its request waited in the
 * admission queue. Nobody reads the answer; it names the access-log line.
 */
export class ClientGoneError extends GatewayError {
  override name = "ClientGoneError";
  constructor() {
    super(499, "invalid_request_error", "client_abort", "The client closed the connection while queued.");
  }
}

/** 502: the upstream failed (connection error, 5xx, broken body). */
export class UpstreamError extends GatewayError {
  override name = "UpstreamError";
  constructor(message: string, code = "upstream_error") {
    super(502, "upstream_error", code, message);
  }
}

/** 503: no instance can serve the request (all down, open or limited). */
export class NoUpstreamError extends GatewayError {
  override name = "NoUpstreamError";
  constructor(message: string, headers: Record<string, string> = {}) {
    super(503, "server_error", "service_unavailable", message, headers);
  }
}

/**
 * 503: the shared rate-limit state (Redis) cannot be reached and `state.on-unavailable` is `deny`:
 * the gateway refuses rather than enforce limits it cannot count. Retry after a second.
 */
export class LimitsUnavailableError extends GatewayError {
  override name = "LimitsUnavailableError";
  constructor(
    message = "Rate limits cannot be checked right now (shared state unavailable); retry shortly.",
  ) {
    super(503, "server_error", "rate_limit_unavailable", message, { "retry-after": "1" });
  }
}

/**
 * 503: the gateway reached its shutdown deadline (`server.shutdown-timeout`) and cut the request.
 * Also the abort reason the cut streams see, so their final SSE error event says so.
 */
export class ShuttingDownError extends GatewayError {
  override name = "ShuttingDownError";
  constructor(message = "The gateway is shutting down; the request was cut at its shutdown deadline.") {
    super(503, "server_error", "gateway_shutdown", message);
  }
}

/** 504: the upstream did not answer in time. */
export class UpstreamTimeoutError extends GatewayError {
  override name = "UpstreamTimeoutError";
  constructor(message: string) {
    super(504, "timeout_error", "upstream_timeout", message);
  }
}

/** The OpenAI error body. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

/**
 * Maps any thrown value to an OpenAI-shaped error body and status. Unknown errors become a 500
 * whose message does not leak internals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BadRequestError, toErrorBody } from "./errors.ts";
 * const { status, body } = toErrorBody(new BadRequestError("bad"));
 * assert(status === 400 && body.error.type === "invalid_request_error");
 * ```
 */
export function toErrorBody(
  err: unknown,
): { status: number; body: OpenAIErrorBody; headers: Readonly<Record<string, string>> } {
  if (err instanceof GatewayError) {
    return {
      status: err.status,
      headers: err.headers,
      body: { error: { message: err.message, type: err.type, code: err.code, param: err.param } },
    };
  }
  return {
    status: 500,
    headers: {},
    body: {
      error: {
        message: "Internal gateway error.",
        type: "server_error",
        code: "internal_error",
        param: null,
      },
    },
  };
}

/** Builds the JSON `Response` for an error (with `X-Request-Id` when known). */
export function errorResponse(err: unknown, requestId?: string): Response {
  const { status, body, headers } = toErrorBody(err);
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  if (requestId) h.set("x-request-id", requestId);
  return new Response(JSON.stringify(body), { status, headers: h });
}
