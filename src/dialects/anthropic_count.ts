/**
 * `POST /v1/messages/count_tokens`, answered by the gateway itself with an **estimate**: the
 * backends behind it use many tokenizers and none is loaded here. The estimate is the common
 * rule of thumb of one token per four bytes of UTF-8 text (system prompt, messages, tool
 * definitions and tool calls), plus four tokens of framing per message, plus 1,600 tokens per
 * image (Anthropic's formula `width × height / 750` for an image at its default size limit).
 * Good enough to budget a context window; not an exact count.
 *
 * @module
 */

import { anthropicToChat, COUNT_TOKENS_FIELDS } from "./anthropic_request.ts";
import { checkFields, isRecord, type Json, readObject, translate } from "./request_body.ts";
import type { DialectFailure } from "./types.ts";

/** Tokens counted for one image. */
export const IMAGE_TOKENS = 1600;
/** Tokens of framing counted per message (role and separators). */
export const MESSAGE_TOKENS = 4;

const encoder = new TextEncoder();

function textTokens(text: string): number {
  return Math.ceil(encoder.encode(text).length / 4);
}

function contentTokens(content: unknown): number {
  if (typeof content === "string") return textTokens(content);
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (part.type === "image_url") n += IMAGE_TOKENS;
    else if (typeof part.text === "string") n += textTokens(part.text);
  }
  return n;
}

/**
 * Estimates the input tokens of an OpenAI chat body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateInputTokens } from "./anthropic_count.ts";
 * assert.equal(estimateInputTokens({ messages: [{ role: "user", content: "12345678" }] }), 4 + 2);
 * ```
 */
export function estimateInputTokens(chat: Json): number {
  let n = 0;
  const messages = Array.isArray(chat.messages) ? chat.messages : [];
  for (const m of messages) {
    if (!isRecord(m)) continue;
    n += MESSAGE_TOKENS + contentTokens(m.content);
    if (Array.isArray(m.tool_calls)) n += textTokens(JSON.stringify(m.tool_calls));
  }
  if (Array.isArray(chat.tools)) n += textTokens(JSON.stringify(chat.tools));
  return n;
}

/**
 * Answers a count_tokens body: `{input_tokens}` or a failure for the Anthropic error shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countTokens } from "./anthropic_count.ts";
 * const out = countTokens(new TextEncoder().encode(JSON.stringify({
 *   model: "m", messages: [{ role: "user", content: "hello there" }],
 * })));
 * assert(out.ok && out.body.input_tokens === 4 + 3);
 * ```
 */
export function countTokens(
  bytes: Uint8Array,
): { ok: true; body: { input_tokens: number } } | DialectFailure {
  return translate(() => {
    const req = readObject(bytes);
    checkFields(req, COUNT_TOKENS_FIELDS, "Anthropic count_tokens");
    return { ok: true as const, body: { input_tokens: estimateInputTokens(anthropicToChat(req)) } };
  });
}
