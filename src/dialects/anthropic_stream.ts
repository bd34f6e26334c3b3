/**
 * OpenAI chat stream → Anthropic's stream, event by event (Anthropic API reference, "Streaming
 * Messages"): `message_start`, a `ping`, then per content block `content_block_start`,
 * `content_block_delta` (`text_delta`, `thinking_delta`, `input_json_delta` for tool arguments)
 * and `content_block_stop`, then `message_delta` (stop reason and usage) and `message_stop`.
 * Every event is named in an `event:` line, as the Anthropic SDKs require.
 *
 * Blocks are closed before the next one starts, as Anthropic does, and every delta goes to the
 * open block. `message_delta` waits only for the usage chunk that follows the finish reason (the
 * gateway asks for it), never for text.
 *
 * A backend may interleave the argument pieces of parallel tool calls (each chat delta names its
 * call by `index`). The open tool block streams live; a call that begins while it is open starts
 * its own block at once only when the open call's arguments are already a complete JSON value
 * (`json_scanner.ts`). Otherwise the new call waits in a queue, its pieces kept — and so does
 * text or thinking that arrives meanwhile (it cannot stop a block whose arguments are unfinished)
 * — until the open call's arguments complete or the answer ends. The queue then comes out in
 * arrival order, each call with its kept arguments in one delta; a call that is still unfinished
 * goes on live and holds the rest. Only what is queued is kept: the size of the answer at most.
 *
 * @module
 */

import { UpstreamError } from "../errors.ts";
import type { AnthropicCtx } from "./anthropic_request.ts";
import { anthropicErrorBody, anthropicUsage, stopReason } from "./anthropic_response.ts";
import type { Json } from "./request_body.ts";
import { createChatStream, MAX_HELD } from "./chat_stream.ts";
import { JsonScanner } from "./json_scanner.ts";
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

/** Text or thinking that arrived while an unfinished call held the open block. */
interface Held {
  readonly kind: "text" | "thinking";
  readonly value: string;
}

/** One tool call of the answer. */
interface ToolCall {
  readonly id: string;
  readonly name: string;
  /** Its arguments so far, read for completeness only. */
  readonly args: JsonScanner;
  /** The pieces it received while waiting for its block; emptied when the block starts. */
  pieces: string[];
  /** Its block's index once started, -1 while it waits. */
  block: number;
}

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
  /** Every tool call, by the chat delta's call `index`. */
  const calls = new Map<number, ToolCall>();
  /** The call whose block is open. */
  let current: ToolCall | undefined;
  /**
   * What arrived while the open call's arguments were unfinished — calls that began, text and
   * thinking — in arrival order, to come out once the open call completes (or the answer ends).
   */
  const queue: Array<ToolCall | Held> = [];
  /** What the queue holds, in UTF-16 units (bounded by `MAX_HELD`). */
  let held = 0;
  let stop = { stop_reason: "end_turn", stop_sequence: null as string | null };

  const close = (): string => {
    if (open === undefined) return "";
    open = undefined;
    current = undefined;
    return event("content_block_stop", { type: "content_block_stop", index: blocks - 1 });
  };

  const begin = (kind: BlockKind, block: Json): string => {
    const out = close() +
      event("content_block_start", { type: "content_block_start", index: blocks, content_block: block });
    open = kind;
    blocks++;
    return out;
  };

  /** Starts a queued call's block (stopping the open one) with the pieces it kept, in one delta. */
  const startCall = (call: ToolCall): string => {
    let out = begin("tool_use", { type: "tool_use", id: call.id, name: call.name, input: {} });
    call.block = blocks - 1;
    current = call;
    if (call.pieces.length > 0) {
      out += delta(call.block, "input_json_delta", "partial_json", call.pieces.join(""));
      call.pieces = [];
    }
    return out;
  };

  /** Text or thinking into its block (a new one when the open block is another). */
  const emitText = (kind: "text" | "thinking", value: string): string => {
    let out = "";
    if (open !== kind) {
      out = begin(
        kind,
        kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" },
      );
    }
    return out + delta(blocks - 1, kind === "text" ? "text_delta" : "thinking_delta", kind, value);
  };

  /** The open block is a call whose arguments are not a complete JSON value yet: it cannot stop. */
  const busy = () => current !== undefined && !current.args.complete;

  /**
   * Lets queued items out in order while no unfinished call holds the open block — all of them
   * when the queue holds more than `MAX_HELD` (the unfinished call's block then ends).
   */
  const drain = (): string => {
    if (held > MAX_HELD) return drainAll();
    let out = "";
    while (queue.length > 0 && !busy()) out += release(queue.shift()!);
    return out;
  };

  /** Everything still queued, whatever the open call's state: the answer ends. */
  const drainAll = (): string => {
    let out = "";
    while (queue.length > 0) out += release(queue.shift()!);
    return out;
  };

  const release = (q: ToolCall | Held): string => {
    if (!("args" in q)) {
      held -= q.value.length;
      return emitText(q.kind, q.value);
    }
    for (const piece of q.pieces) held -= piece.length;
    return startCall(q);
  };

  /** Keeps a piece of a call that waits for its block. */
  const keep = (call: ToolCall, piece: string) => {
    call.pieces.push(piece);
    call.args.push(piece);
    held += piece.length;
  };

  const text = (kind: "text" | "thinking", value: string): string => {
    // The hot path: nothing queued, no unfinished call open.
    if (queue.length === 0 && !busy()) return emitText(kind, value);
    queue.push({ kind, value });
    held += value.length;
    return drain();
  };

  const toolCall = (d: ToolDelta): string => {
    const call = calls.get(d.index);
    if (call === undefined) {
      const id = d.id ?? `toolu_${ctx.id}_${calls.size}`;
      const fresh: ToolCall = { id, name: d.name, args: new JsonScanner(), pieces: [], block: -1 };
      calls.set(d.index, fresh);
      if (d.args !== "") keep(fresh, d.args);
      queue.push(fresh);
      return drain();
    }
    if (d.args === "") return "";
    if (call.args.complete) {
      // Whitespace after a whole JSON value changes nothing; anything else would make it invalid
      // (its block may be stopped already, too). A new call has an id of its own (`callNumbering`).
      if (d.args.trim() === "") return "";
      throw new UpstreamError(
        `The upstream sent arguments for tool call ${d.index} after they were a complete JSON value.`,
      );
    }
    if (call === current) {
      const out = delta(call.block, "input_json_delta", "partial_json", d.args);
      call.args.push(d.args);
      return queue.length > 0 ? out + drain() : out;
    }
    // Its block ended unfinished: more than MAX_HELD waited behind it, or the answer ended.
    if (call.block !== -1) {
      throw new UpstreamError(
        `The upstream sent arguments for tool call ${d.index} after its block had to end ` +
          `(over ${MAX_HELD >> 20} MiB of the answer waited behind it).`,
      );
    }
    // Not started yet (an unfinished call holds the open block): kept for its start.
    keep(call, d.args);
    return drain();
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
      // An answer cut by its token limit mid-call is "max_tokens": its tool input is not whole.
      stop = stopReason(calls.size > 0 && reason !== "length" ? "tool_calls" : reason, matched, ctx);
      // The blocks end with the answer (`finalize`): pieces may still follow the finish reason.
      return drain();
    },
    finalize: (_finish, usage) =>
      drainAll() + close() +
      event("message_delta", { type: "message_delta", delta: stop, usage: anthropicUsage(usage) }) +
      event("message_stop", { type: "message_stop" }),
    // What was held back reaches the client before the error, as it would have without a call open.
    error: (message) => drainAll() + event("error", anthropicErrorBody(502, message)),
  });
}
