/**
 * A request in a client dialect, ready for dispatch: the {@linkcode DialectCall} a translated
 * request carries, whose {@linkcode Reply} turns each translated answer back — a whole JSON
 * answer through the dialect's `toResponse`, a stream through a fresh translator run inline in
 * the relay, chunk by chunk (its error event when the upstream breaks). The answer names the
 * model that answered: the dialect's context is given that model's public name.
 *
 * @module
 */

import type { Dialect, DialectRequest } from "../dialects/types.ts";
import type { Reply } from "./reply.ts";
import type { DialectCall } from "./request.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** Every dialect context carries the model it names in its answers. */
type Ctx = { readonly model: string };

/**
 * The call of a parsed dialect request. `original` is the client's body, forwarded as it is to
 * an instance whose backend speaks the dialect.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { anthropicDialect } from "../dialects/mod.ts";
 * import { dialectCall } from "./dialect_call.ts";
 * const bytes = new TextEncoder().encode(JSON.stringify({
 *   model: "claude-x", max_tokens: 8, messages: [{ role: "user", content: "hi" }],
 * }));
 * const parsed = anthropicDialect.parseRequest(bytes, { clock: () => 0, randomId: () => "1" });
 * assert(parsed.ok);
 * const call = dialectCall(anthropicDialect, parsed, bytes);
 * const openai = { choices: [{ message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }] };
 * const out = JSON.parse(new TextDecoder().decode(
 *   call.translated("qwen3-8b").json(new TextEncoder().encode(JSON.stringify(openai))),
 * ));
 * assert.equal(out.model, "qwen3-8b");
 * assert.deepEqual(out.content, [{ type: "text", text: "Hello" }]);
 * ```
 */
export function dialectCall<C>(
  dialect: Dialect<C>,
  parsed: DialectRequest<C>,
  original: Uint8Array,
): DialectCall {
  const ctx = parsed.ctx as C & Ctx;
  const named = (model: string): C => (model === ctx.model ? ctx : { ...ctx, model });
  return {
    name: dialect.name,
    route: dialect.route,
    original,
    native: dialect.native,
    translated: (model) => dialectReply(dialect, named(model), parsed.stream),
    answer: (openai, model) => dialect.toResponse(openai, named(model)),
  };
}

/** The {@linkcode Reply} of one translated answer. */
function dialectReply<C>(dialect: Dialect<C>, ctx: C, stream: boolean): Reply {
  return {
    shape: stream ? "stream" : "whole",
    // A translated JSON answer is read whole: it is rewritten as a whole.
    whole: true,
    json: (bytes) =>
      ENCODER.encode(JSON.stringify(dialect.toResponse(JSON.parse(DECODER.decode(bytes)), ctx))),
    jsonType: dialect.contentType,
    stream: (contentType) =>
      contentType.startsWith("text/event-stream") ? dialect.streamTransformer(ctx) : undefined,
    streamType: dialect.streamContentType,
  };
}
