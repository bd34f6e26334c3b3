/**
 * OpenAI chat stream → the Responses `response.*` event stream (OpenAI API reference,
 * "Streaming events"): `response.created`, `response.in_progress`, then per output item
 * `response.output_item.added`, its content part or argument events, `response.output_item.done`,
 * and last `response.completed` (or `response.incomplete`), every event numbered by
 * `sequence_number`. The order is the one the `openai` SDK's `responses.stream` accumulator checks.
 *
 * The protocol repeats each item's full text in its `.done` events and the whole output in
 * `response.completed`, so the pieces of the open items are kept (as arrays, joined once) and
 * finished items are kept for the final event: the memory of one answer, which the client holds too.
 *
 * One text or reasoning item is open at a time. Function calls stay open together until text or
 * reasoning follows them or the answer ends: a backend may interleave the argument pieces of
 * parallel calls (each chat delta names its call by `index`), and a call closed when the next one
 * began would lose the pieces that come after. For the same reason text or reasoning that arrives
 * while an open call's arguments are not yet a complete JSON value waits until they are.
 *
 * @module
 */

import { UpstreamError } from "../errors.ts";
import type { Json } from "./request_body.ts";
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
import { createChatStream, MAX_HELD } from "./chat_stream.ts";
import { JsonScanner } from "./json_scanner.ts";
import type { ToolDelta } from "./openai_shape.ts";
import type { StreamTranslator } from "./types.ts";

type Kind = "message" | "reasoning" | "function_call";

interface OpenItem {
  readonly kind: Kind;
  readonly index: number;
  readonly id: string;
  readonly pieces: string[];
  readonly callId: string;
  readonly name: string;
  /** A function call's arguments so far, read for completeness only. */
  readonly args?: JsonScanner;
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
  /** The open text or reasoning item. */
  let open: OpenItem | undefined;
  /** Open function calls by the chat delta's call `index`, in the order they began. */
  const calls = new Map<number, OpenItem>();
  /** Calls begun (open or closed), by the chat delta's call `index`. */
  const begun = new Set<number>();
  /** Finished items by output index. */
  const done: Json[] = [];
  /**
   * Text and reasoning that arrived while an open call's arguments were unfinished: they would
   * close it (its later pieces would have nowhere to go), so they wait until the calls are whole.
   */
  const held: Array<{ readonly kind: "message" | "reasoning"; readonly value: string }> = [];
  /** What `held` holds, in UTF-16 units: past `MAX_HELD` it goes out, closing the unfinished calls. */
  let heldSize = 0;
  let items = 0;

  const event = (type: string, fields: Json): string =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`;

  /** The hot path: a delta written from a template. */
  const delta = (type: string, item: OpenItem, text: string, tail: string): string =>
    `event: ${type}\ndata: {"type":"${type}","sequence_number":${seq++},"item_id":"${item.id}","output_index":${item.index},${tail}"delta":${
      JSON.stringify(text)
    }}\n\n`;

  const close = (item: OpenItem): string => {
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
    done[item.index] = final;
    return out + event("response.output_item.done", { output_index: item.index, item: final });
  };

  /** Closes the open text or reasoning item; with `calls`, every open function call too. */
  const closeOpen = (withCalls: boolean): string => {
    let out = "";
    if (open) out += close(open);
    open = undefined;
    if (withCalls) {
      for (const call of calls.values()) out += close(call);
      calls.clear();
    }
    return out;
  };

  /** A new item, numbered in the order items begin (the `output_index` of its events). */
  const newItem = (kind: Kind, callId = "", name = ""): OpenItem => {
    const index = items++;
    const id = itemId(ctx, kind === "message" ? "msg" : kind === "reasoning" ? "rs" : "fc", index);
    return {
      kind,
      index,
      id,
      pieces: [],
      callId,
      name,
      args: kind === "function_call" ? new JsonScanner() : undefined,
    };
  };

  /** The events that open `item`: `.added`, and a text item's empty content part. */
  const added = (item: OpenItem): string => {
    const { kind, index, id } = item;
    if (kind === "function_call") {
      return event("response.output_item.added", {
        output_index: index,
        item: functionCallItem(id, item.callId, item.name, "", "in_progress"),
      });
    }
    const shell = kind === "message"
      ? { type: "message", id, status: "in_progress", role: "assistant", content: [] }
      : { type: "reasoning", id, summary: [], content: [] };
    const part = kind === "message"
      ? { type: "output_text", text: "", annotations: [], logprobs: [] }
      : { type: PART.reasoning, text: "" };
    return event("response.output_item.added", { output_index: index, item: shell }) +
      event("response.content_part.added", { item_id: id, output_index: index, content_index: 0, part });
  };

  const emitText = (kind: "message" | "reasoning", value: string): string => {
    let out = "";
    if (open?.kind !== kind) {
      out = closeOpen(true);
      open = newItem(kind);
      out += added(open);
    }
    const item = open;
    item.pieces.push(value);
    return kind === "message"
      ? out + delta("response.output_text.delta", item, value, '"content_index":0,"logprobs":[],')
      : out + delta("response.reasoning_text.delta", item, value, '"content_index":0,');
  };

  /** An open call's arguments are not a complete JSON value yet. */
  const unfinished = (): boolean => {
    for (const call of calls.values()) if (!call.args!.complete) return true;
    return false;
  };

  /** The held text, once no open call is unfinished (or, with `force`, at the end). */
  const release = (force: boolean): string => {
    if (held.length === 0 || (!force && unfinished())) return "";
    heldSize = 0;
    let out = "";
    for (const h of held.splice(0)) out += emitText(h.kind, h.value);
    return out;
  };

  const text = (kind: "message" | "reasoning", value: string): string => {
    // The hot path: no call open, nothing held.
    if (held.length === 0 && (calls.size === 0 || !unfinished())) return emitText(kind, value);
    held.push({ kind, value });
    heldSize += value.length;
    return heldSize > MAX_HELD ? release(true) : "";
  };

  const toolCall = (d: ToolDelta): string => {
    let out = "";
    if (!begun.has(d.index)) {
      begun.add(d.index);
      out = closeOpen(false);
      const call = newItem("function_call", d.id ?? itemId(ctx, "fc", items), d.name);
      calls.set(d.index, call);
      out += added(call);
    }
    const item = calls.get(d.index);
    if (d.args === "") return out;
    // Whitespace after a whole JSON value changes nothing; anything else would make it invalid, or
    // has no item to go to (text closed the call: its arguments were whole, or over MAX_HELD waited).
    if (item === undefined || item.args!.complete) {
      if (d.args.trim() === "") return out;
      throw new UpstreamError(
        `The upstream sent arguments for tool call ${d.index} after ${
          item ? "they were a complete JSON value" : "the call had to end"
        }.`,
      );
    }
    item.pieces.push(d.args);
    item.args!.push(d.args);
    out += delta("response.function_call_arguments.delta", item, d.args, "");
    return held.length > 0 ? out + release(false) : out;
  };

  return createChatStream({
    start() {
      const response = responseObject(ctx, "in_progress", []);
      return event("response.created", { response }) + event("response.in_progress", { response });
    },
    reasoning: (t) => text("reasoning", t),
    content: (t) => text("message", t),
    toolCall,
    // The items end with the answer (`finalize`): argument pieces may still follow the finish reason.
    finish: () => release(false),
    finalize(finish, usage) {
      const out = release(true) + closeOpen(true);
      const { status, incomplete_details } = responseStatus(finish);
      const response = responseObject(ctx, status, done, {
        incomplete_details,
        usage: responsesUsage(usage),
      });
      return out + event(status === "completed" ? "response.completed" : "response.incomplete", { response });
    },
    // What was held back reaches the client before the error, as it would have without a call open.
    error: (message) => release(true) + event("error", { code: "upstream_error", message, param: null }),
  });
}
