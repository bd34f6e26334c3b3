/**
 * What a request will cost in tokens, estimated before it is sent, for limits with
 * `unit: tokens`: the prompt's length at about 4 characters per token (OpenAI's rule of thumb for
 * English; the estimate is corrected from the reported `usage` once the request ends, so it only
 * has to be close), plus the output it may produce — `max_completion_tokens`, else `max_tokens`,
 * else {@linkcode DEFAULT_OUTPUT_TOKENS} for a generation (nothing for embeddings and rerank).
 *
 * Only the fields that carry text are read (chat `messages`, `prompt`, embeddings `input`, rerank
 * `query` and `documents`); a body that has none of them (images, multipart uploads) is estimated
 * at 0 and charged what its `usage` reports, after the fact. Work is bounded by the body, which
 * the gateway has already parsed; nothing is serialised again.
 *
 * @module
 */

import type { Config, ServiceConfig } from "../config/types.ts";
import type { JsonBody, RateLimitConfig, RawBody } from "../types.ts";

/** Characters per token of the estimate. */
export const CHARS_PER_TOKEN = 4;
/** Output tokens assumed for a generation that sets no `max_tokens`. */
export const DEFAULT_OUTPUT_TOKENS = 256;
/** Tokens a chat message costs beyond its text (role, separators). */
export const MESSAGE_OVERHEAD = 4;

/** Characters of text in a content value: a string, or the `text` of content parts. */
function textLength(content: unknown): number {
  if (typeof content === "string") return content.length;
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content) {
    if (typeof part === "string") n += part.length;
    else if (typeof (part as { text?: unknown } | null)?.text === "string") {
      n += (part as { text: string }).text.length;
    } else if (typeof part === "number") n += CHARS_PER_TOKEN; // a token id
    else if (Array.isArray(part)) n += part.length * CHARS_PER_TOKEN; // a list of token ids
  }
  return n;
}

function outputLimit(v: Record<string, unknown>): number | undefined {
  for (const key of ["max_completion_tokens", "max_tokens"]) {
    const n = v[key];
    if (typeof n === "number" && Number.isFinite(n) && n >= 0) return Math.floor(n);
  }
  return undefined;
}

/**
 * The estimated tokens of a request (prompt + output), an integer >= 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateTokens } from "./token_estimate.ts";
 * const chat = { model: "m", max_tokens: 100, messages: [{ role: "user", content: "x".repeat(400) }] };
 * const json = (value: Record<string, unknown>) => ({ kind: "json" as const, bytes: new Uint8Array(), value });
 * assert.equal(estimateTokens(json(chat)), 100 + 4 + 100); // text, message overhead, output
 * assert.equal(estimateTokens(json({ model: "e", input: ["abcd", "efgh"] })), 2);
 * ```
 */
export function estimateTokens(body: JsonBody | RawBody): number {
  if (body.kind !== "json") return 0;
  const v = body.value;
  let chars = 0;
  let overhead = 0;
  let generates = false;
  if (Array.isArray(v.messages)) {
    generates = true;
    for (const m of v.messages) {
      overhead += MESSAGE_OVERHEAD;
      chars += textLength((m as { content?: unknown } | null)?.content);
    }
  } else if (v.prompt !== undefined) {
    generates = true;
    chars += typeof v.prompt === "string" ? v.prompt.length : textLength(v.prompt);
  } else {
    chars += typeof v.input === "string" ? v.input.length : textLength(v.input);
    if (typeof v.query === "string") chars += v.query.length;
    chars += textLength(v.documents);
  }
  const output = outputLimit(v) ?? (generates ? DEFAULT_OUTPUT_TOKENS : 0);
  return Math.ceil(chars / CHARS_PER_TOKEN) + overhead + output;
}

/**
 * Whether a request to `svc` meets a limit that counts tokens (`rate-limit.unit: tokens` at the
 * global, service, client-IP, API-key or instance level), so that it needs an estimate.
 */
export function countsTokens(config: Config, svc: ServiceConfig): boolean {
  const tokens = (rl: RateLimitConfig | undefined) => rl?.unit === "tokens";
  return tokens(config.globalRateLimit) || tokens(svc.rateLimit) ||
    config.auth.keys.some((k) => tokens(k.rateLimit)) || svc.instances.some((i) => tokens(i.rateLimit));
}
