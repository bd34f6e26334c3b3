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
import { isRecord, type Json } from "./request_body.ts";
import { createSseTranslator, type OpenAIStreamHandler } from "./sse_reader.ts";
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
  let started = false;
  let finished = false;
  let open: BlockKind | undefined;
  let blocks = 0;
  const tools = new Map<number, number>();
  let finish: { stop_reason: string; stop_sequence: string | null } | undefined;
  let usage: Json | undefined;

  const start = (): string => {
    if (started) return "";
    started = true;
    const message = {
      id: ctx.id,
      type: "message",
      role: "assistant",
      model: ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: anthropicUsage(usage).input_tokens, output_tokens: 0 },
    };
    return event("message_start", { type: "message_start", message }) + event("ping", { type: "ping" });
  };

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

  const toolCalls = (calls: unknown[]): string => {
    let out = "";
    for (const call of calls) {
      if (!isRecord(call)) continue;
      const key = typeof call.index === "number" ? call.index : 0;
      const fn = isRecord(call.function) ? call.function : {};
      let index = tools.get(key);
      if (index === undefined) {
        const id = typeof call.id === "string" && call.id !== "" ? call.id : `toolu_${ctx.id}_${tools.size}`;
        out += begin("tool_use", { type: "tool_use", id, name: fn.name ?? "", input: {} });
        index = blocks - 1;
        tools.set(key, index);
      }
      if (typeof fn.arguments === "string" && fn.arguments !== "") {
        out += delta(index, "input_json_delta", "partial_json", fn.arguments);
      }
    }
    return out;
  };

  const finalize = (): string => {
    if (finished) return "";
    finished = true;
    const end = finish ?? { stop_reason: "end_turn", stop_sequence: null };
    return close() +
      event("message_delta", { type: "message_delta", delta: end, usage: anthropicUsage(usage) }) +
      event("message_stop", { type: "message_stop" });
  };

  const handler: OpenAIStreamHandler = {
    chunk(value) {
      if (finished) return "";
      if (isRecord(value.usage)) usage = value.usage;
      let out = start();
      const choice = Array.isArray(value.choices) ? value.choices[0] : undefined;
      if (isRecord(choice)) {
        const d = isRecord(choice.delta) ? choice.delta : {};
        const reasoning = d.reasoning_content ?? d.reasoning;
        if (ctx.thinking && typeof reasoning === "string" && reasoning !== "") {
          out += text("thinking", reasoning);
        }
        if (typeof d.content === "string" && d.content !== "") out += text("text", d.content);
        if (Array.isArray(d.tool_calls)) out += toolCalls(d.tool_calls);
        if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
          const reason = tools.size > 0 ? "tool_calls" : choice.finish_reason;
          finish = stopReason(reason, choice.stop_reason, ctx);
          out += close();
        }
      }
      if (finish && usage) out += finalize();
      return out;
    },
    done: () => start() + finalize(),
    error: (message) => event("error", anthropicErrorBody(502, message)),
    end() {
      if (finished) return "";
      if (finish) return finalize();
      return event(
        "error",
        anthropicErrorBody(502, "The upstream stream ended before the answer was complete."),
      );
    },
  };
  return createSseTranslator(handler);
}
