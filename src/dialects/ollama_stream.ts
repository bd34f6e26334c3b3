/**
 * OpenAI chat stream → Ollama's NDJSON stream (`docs/api.md`, streaming responses): one JSON line
 * per token batch with `done: false`, then a last line with `done: true`, `done_reason` and the
 * counts and durations; `{"error": "…"}` when the upstream fails (the `ollama` client throws it).
 * Tool calls are sent whole, as Ollama sends them: their argument pieces are kept until the answer
 * ends (pieces may follow the finish reason), since Ollama's `arguments` is an object, not a string.
 *
 * @module
 */

import type { OllamaCtx } from "./ollama_request.ts";
import { doneReason, metrics, ollamaToolCalls } from "./ollama_response.ts";
import type { Json } from "./request_body.ts";
import { createChatStream } from "./chat_stream.ts";
import type { ToolDelta } from "./openai_shape.ts";
import type { StreamTranslator } from "./types.ts";

interface PendingCall {
  readonly id: string | undefined;
  readonly name: string;
  readonly pieces: string[];
}

/**
 * A fresh translator for one `/api/chat` or `/api/generate` stream (by `ctx.kind`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createOllamaStream } from "./ollama_stream.ts";
 * const t = createOllamaStream({ kind: "chat", model: "m", startedAt: 0, clock: () => 0 });
 * const out = new TextDecoder().decode(t.push(new TextEncoder().encode(
 *   'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n',
 * )));
 * assert.deepEqual(JSON.parse(out), {
 *   model: "m", created_at: "1970-01-01T00:00:00.000Z", message: { role: "assistant", content: "Hi" }, done: false,
 * });
 * ```
 */
export function createOllamaStream(ctx: OllamaCtx): StreamTranslator {
  const model = JSON.stringify(ctx.model);
  const chat = ctx.kind === "chat";
  let stampMs = NaN;
  let stamp = "";
  let stampJson = "";
  let firstTokenAt: number | undefined;
  const calls = new Map<number, PendingCall>();

  /** `created_at`, formatted once per clock millisecond. */
  const created = (): string => {
    const now = ctx.clock();
    if (now !== stampMs) {
      stampMs = now;
      stamp = new Date(now).toISOString();
      stampJson = `"${stamp}"`;
    }
    return stamp;
  };

  /** The hot path: one token line written from a template. */
  const line = (content: string, thinking?: string): string => {
    firstTokenAt ??= ctx.clock();
    const body = thinking === undefined ? JSON.stringify(content) : `""`;
    const extra = thinking === undefined ? "" : `,"thinking":${JSON.stringify(thinking)}`;
    created();
    const at = stampJson;
    return chat
      ? `{"model":${model},"created_at":${at},"message":{"role":"assistant","content":${body}${extra}},"done":false}\n`
      : `{"model":${model},"created_at":${at},"response":${body}${extra},"done":false}\n`;
  };

  const collect = (d: ToolDelta): string => {
    let call = calls.get(d.index);
    if (!call) {
      call = { id: d.id, name: d.name, pieces: [] };
      calls.set(d.index, call);
    }
    call.pieces.push(d.args);
    return "";
  };

  const flushCalls = (): string => {
    if (calls.size === 0) return "";
    const whole = [...calls.values()].map((c) => ({
      id: c.id,
      function: { name: c.name, arguments: c.pieces.join("") },
    }));
    calls.clear();
    const toolCalls = ollamaToolCalls(whole);
    const out: Json = { model: ctx.model, created_at: created() };
    if (chat) out.message = { role: "assistant", content: "", tool_calls: toolCalls };
    else Object.assign(out, { response: "", tool_calls: toolCalls });
    out.done = false;
    return `${JSON.stringify(out)}\n`;
  };

  return createChatStream({
    start: () => "",
    reasoning: (t) => line("", t),
    content: (t) => line(t),
    toolCall: collect,
    // The calls go out with the answer's end (`finalize`): pieces may still follow the finish reason.
    finish: () => "",
    finalize(finish, usage) {
      const out: Json = { model: ctx.model, created_at: created() };
      if (chat) out.message = { role: "assistant", content: "" };
      else out.response = "";
      out.done = true;
      out.done_reason = doneReason(finish);
      return flushCalls() + `${JSON.stringify(Object.assign(out, metrics(ctx, usage, firstTokenAt)))}\n`;
    },
    error: (message) => `${JSON.stringify({ error: message })}\n`,
  });
}
