/**
 * Reading the error message out of a backend's error body, whichever dialect it speaks, so the
 * proxy can answer in OpenAI's error shape without losing the backend's reason:
 * OpenAI/vLLM/llama.cpp/LocalAI `{error: {message}}`, Ollama/TEI `{error: "..."}`, vLLM's older
 * `{object: "error", message}`, FastAPI (Xinference, Infinity, vox-box) `{detail: "..." | [{msg}]}`.
 *
 * @module
 */

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The message of a parsed error body, or `undefined` when none is recognisable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { upstreamErrorMessage } from "./upstream_error.ts";
 * assert(upstreamErrorMessage({ error: "model 'x' not found" }) === "model 'x' not found");
 * assert(upstreamErrorMessage({ error: { message: "bad" } }) === "bad");
 * assert(upstreamErrorMessage({ detail: [{ msg: "field required" }] }) === "field required");
 * ```
 */
export function upstreamErrorMessage(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim() === "" ? undefined : body.trim();
  if (!isRecord(body)) return undefined;
  if (typeof body.error === "string") return body.error;
  if (isRecord(body.error) && typeof body.error.message === "string") return body.error.message;
  if (typeof body.message === "string") return body.message;
  if (typeof body.detail === "string") return body.detail;
  if (Array.isArray(body.detail)) {
    const msgs = body.detail.map((d) => (isRecord(d) && typeof d.msg === "string" ? d.msg : undefined))
      .filter((m): m is string => m !== undefined);
    if (msgs.length > 0) return msgs.join("; ");
  }
  return undefined;
}

/**
 * Whether a parsed stream event is the upstream's error rather than a chunk: OpenAI's and
 * vLLM's `{error: …}` (a null `error` is none), vLLM's older `{object: "error"}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isErrorEvent } from "./upstream_error.ts";
 * assert(isErrorEvent({ error: { message: "boom" } }) && isErrorEvent({ object: "error", message: "x" }));
 * assert(!isErrorEvent({ error: null, choices: [] }));
 * ```
 */
export function isErrorEvent(value: Record<string, unknown>): boolean {
  return (value.error !== undefined && value.error !== null) || value.object === "error";
}
