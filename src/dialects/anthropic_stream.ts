/**
 * OpenAI chat stream → Anthropic's stream, event by event (Anthropic API reference, "Streaming
 * Messages"): `message_start`, a `ping`, then per content block `content_block_start`,
 * `content_block_delta` (`text_delta`, `thinking_delta`, `input_json_delta` for tool arguments)
 * and `content_block_stop`, then `message_delta` (stop reason and usage) and `message_stop`.
 * Every event is named in an `event:` line, as the Anthropic SDKs require.
 *
 * Blocks are closed before the next one starts, as Anthropic does. `message_delta` waits only
 * for the usage chunk that follows the finish reason (the gateway asks for it), never for text.
 *
 * @module
 */

import type { AnthropicCtx } from "./anthropic_request.ts";
import { anthropicErrorBody, anthropicUsage, stopReason } from "./anthropic_response.ts";
import type { Json } from "./request_body.ts";
import { createChatStream } from "./chat_stream.ts";
import type { ToolDelta } from "./openai_shape.ts";
import type { StreamTranslator } from "./types.ts";

function event(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The hot path: a delta event written from a template, without building an object. */
function delta(index: number, kind: string, field: string, text: string): string {
  return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"${kind}","${field}":${
    JSON.stringify(text)
  }}}\n\n`;
}

type BlockKind = "text" | "thinking" | "tool_use";

/**
 * A fresh translator for one response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAnthropicStream } from "./anthropic_stream.ts";
 * const t = createAnthropicStream({ id: "msg_1", model: "m", stopSequences: [], thinking: false });
 * const enc = new TextEncoder();
 * const out = new TextDecoder().decode(t.push(enc.encode(
 *   'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\n',
 * )));
 * assert(out.startsWith("event: message_start\n") && out.includes('"text_delta","text":"Hi"'));
 * ```
 */
export function createAnthropicStream(ctx: AnthropicCtx): StreamTranslator {
  let open: BlockKind | undefined;
  let blocks = 0;
  const tools = new Map<number, number>();
  let stop = { stop_reason: "end_turn", stop_sequence: null as string | null };

  const close = (): string => {
    if (open === undefined) return "";
    open = undefined;
    return event("content_block_stop", { type: "content_block_stop", index: blocks - 1 });
  };

  const begin = (kind: BlockKind, block: Json): string => {
    const out = close() +
      event("content_block_start", { type: "content_block_start", index: blocks, content_block: block });
    open = kind;
    blocks++;
    return out;
  };

  const text = (kind: "text" | "thinking", value: string): string => {
    let out = "";
    if (open !== kind) {
      out = begin(
        kind,
        kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" },
      );
    }
    return out + delta(blocks - 1, kind === "text" ? "text_delta" : "thinking_delta", kind, value);
  };

  const toolCall = (d: ToolDelta): string => {
    let out = "";
    let index = tools.get(d.index);
    if (index === undefined) {
      const id = d.id ?? `toolu_${ctx.id}_${tools.size}`;
      out = begin("tool_use", { type: "tool_use", id, name: d.name, input: {} });
      index = blocks - 1;
      tools.set(d.index, index);
    }
    return d.args === "" ? out : out + delta(index, "input_json_delta", "partial_json", d.args);
  };

  return createChatStream({
    start() {
      const message = {
        id: ctx.id,
        type: "message",
        role: "assistant",
        model: ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      };
      return event("message_start", { type: "message_start", message }) + event("ping", { type: "ping" });
    },
    reasoning: (t) => ctx.thinking ? text("thinking", t) : "",
    content: (t) => text("text", t),
    toolCall,
    finish(reason, matched) {
      stop = stopReason(tools.size > 0 ? "tool_calls" : reason, matched, ctx);
      return close();
    },
    finalize: (_finish, usage) =>
      close() +
      event("message_delta", { type: "message_delta", delta: stop, usage: anthropicUsage(usage) }) +
      event("message_stop", { type: "message_stop" }),
    error: (message) => event("error", anthropicErrorBody(502, message)),
  });
}
