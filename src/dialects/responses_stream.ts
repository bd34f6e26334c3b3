/**
 * OpenAI chat stream → the Responses `response.*` event stream (OpenAI API reference,
 * "Streaming events"): `response.created`, `response.in_progress`, then per output item
 * `response.output_item.added`, its content part or argument events, `response.output_item.done`,
 * and last `response.completed` (or `response.incomplete`), every event numbered by
 * `sequence_number`. The order is the one the `openai` SDK's `responses.stream` accumulator checks.
 *
 * The protocol repeats each item's full text in its `.done` events and the whole output in
 * `response.completed`, so the pieces of the open item are kept (as an array, joined once) and
 * finished items are kept for the final event: the memory of one answer, which the client holds too.
 *
 * @module
 */

import { isRecord, type Json } from "./request_body.ts";
import type { ResponsesCtx } from "./responses_request.ts";
import {
  functionCallItem,
  itemId,
  messageItem,
  reasoningItem,
  responseObject,
  responseStatus,
  responsesUsage,
} from "./responses_response.ts";
import { createSseTranslator, type OpenAIStreamHandler } from "./sse_reader.ts";
import type { StreamTranslator } from "./types.ts";

type Kind = "message" | "reasoning" | "function_call";

interface OpenItem {
  readonly kind: Kind;
  readonly index: number;
  readonly id: string;
  readonly pieces: string[];
  readonly callId: string;
  readonly name: string;
}

const PART: Readonly<Record<"message" | "reasoning", string>> = {
  message: "output_text",
  reasoning: "reasoning_text",
};

/**
 * A fresh translator for one response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createResponsesStream } from "./responses_stream.ts";
 * const t = createResponsesStream({ id: "resp_1", model: "m", createdAt: 0, echo: {} });
 * const out = new TextDecoder().decode(t.push(new TextEncoder().encode(
 *   'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n',
 * )));
 * assert(out.startsWith("event: response.created\n") && out.includes('"delta":"Hi"'));
 * ```
 */
export function createResponsesStream(ctx: ResponsesCtx): StreamTranslator {
  let seq = 0;
  let started = false;
  let finished = false;
  let open: OpenItem | undefined;
  const done: Json[] = [];
  const tools = new Map<number, string>();
  let finish: unknown;
  let usage: Json | undefined;

  const event = (type: string, fields: Json): string =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`;

  /** The hot path: a delta written from a template. */
  const delta = (type: string, item: OpenItem, text: string, tail: string): string =>
    `event: ${type}\ndata: {"type":"${type}","sequence_number":${seq++},"item_id":"${item.id}","output_index":${item.index},${tail}"delta":${
      JSON.stringify(text)
    }}\n\n`;

  const start = (): string => {
    if (started) return "";
    started = true;
    const response = responseObject(ctx, "in_progress", []);
    return event("response.created", { response }) + event("response.in_progress", { response });
  };

  const close = (): string => {
    const item = open;
    if (!item) return "";
    open = undefined;
    const at = { item_id: item.id, output_index: item.index };
    const text = item.pieces.join("");
    let out = "";
    let final: Json;
    if (item.kind === "function_call") {
      final = functionCallItem(item.id, item.callId, item.name, text, "completed");
      out += event("response.function_call_arguments.done", { ...at, name: item.name, arguments: text });
    } else {
      final = item.kind === "message" ? messageItem(item.id, text) : reasoningItem(item.id, text);
      const part = (final.content as Json[])[0];
      const textDone = item.kind === "message" ? "response.output_text.done" : "response.reasoning_text.done";
      out += event(
        textDone,
        item.kind === "message" ? { ...at, content_index: 0, text, logprobs: [] } : {
          ...at,
          content_index: 0,
          text,
        },
      );
      out += event("response.content_part.done", { ...at, content_index: 0, part });
    }
    done.push(final);
    return out + event("response.output_item.done", { output_index: item.index, item: final });
  };

  const begin = (kind: Kind, callId = "", name = ""): string => {
    let out = close();
    const index = done.length;
    const id = itemId(ctx, kind === "message" ? "msg" : kind === "reasoning" ? "rs" : "fc", index);
    open = { kind, index, id, pieces: [], callId, name };
    if (kind === "function_call") {
      return out +
        event("response.output_item.added", {
          output_index: index,
          item: functionCallItem(id, callId, name, "", "in_progress"),
        });
    }
    const item = kind === "message"
      ? { type: "message", id, status: "in_progress", role: "assistant", content: [] }
      : { type: "reasoning", id, summary: [], content: [] };
    const part = kind === "message"
      ? { type: "output_text", text: "", annotations: [], logprobs: [] }
      : { type: PART.reasoning, text: "" };
    out += event("response.output_item.added", { output_index: index, item });
    return out +
      event("response.content_part.added", { item_id: id, output_index: index, content_index: 0, part });
  };

  const text = (kind: "message" | "reasoning", value: string): string => {
    const out = open?.kind === kind ? "" : begin(kind);
    const item = open!;
    item.pieces.push(value);
    return kind === "message"
      ? out + delta("response.output_text.delta", item, value, '"content_index":0,"logprobs":[],')
      : out + delta("response.reasoning_text.delta", item, value, '"content_index":0,');
  };

  const toolCalls = (calls: unknown[]): string => {
    let out = "";
    for (const call of calls) {
      if (!isRecord(call)) continue;
      const key = typeof call.index === "number" ? call.index : 0;
      const fn = isRecord(call.function) ? call.function : {};
      if (!tools.has(key)) {
        const callId = typeof call.id === "string" && call.id !== ""
          ? call.id
          : itemId(ctx, "fc", done.length);
        out += begin("function_call", callId, String(fn.name ?? ""));
        tools.set(key, open!.id);
      }
      const item = open;
      if (typeof fn.arguments === "string" && fn.arguments !== "" && item && item.id === tools.get(key)) {
        item.pieces.push(fn.arguments);
        out += delta("response.function_call_arguments.delta", item, fn.arguments, "");
      }
    }
    return out;
  };

  const finalize = (): string => {
    if (finished) return "";
    finished = true;
    const out = start() + close();
    const { status, incomplete_details } = responseStatus(finish);
    const response = responseObject(ctx, status, done, { incomplete_details, usage: responsesUsage(usage) });
    return out + event(status === "completed" ? "response.completed" : "response.incomplete", { response });
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
        if (typeof reasoning === "string" && reasoning !== "") out += text("reasoning", reasoning);
        if (typeof d.content === "string" && d.content !== "") out += text("message", d.content);
        if (Array.isArray(d.tool_calls)) out += toolCalls(d.tool_calls);
        if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
          finish = choice.finish_reason;
          out += close();
        }
      }
      if (finish !== undefined && usage) out += finalize();
      return out;
    },
    done: () => finalize(),
    error: (message) => event("error", { code: "upstream_error", message, param: null }),
    end() {
      if (finished) return "";
      if (finish !== undefined) return finalize();
      return event("error", {
        code: "upstream_error",
        message: "The upstream stream ended before the answer was complete.",
        param: null,
      });
    },
  };
  return createSseTranslator(handler);
}
