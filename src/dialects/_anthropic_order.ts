/**
 * A strict reader of Anthropic's stream protocol for tests (Anthropic API reference, "Streaming
 * Messages"): `message_start` first; content blocks one at a time, numbered from 0 without gaps,
 * each `content_block_start`, deltas of its own kind to the open block only, `content_block_stop`;
 * then `message_delta` and `message_stop` last, or an `error` event that ends the stream anywhere.
 * `ping` may come anywhere before the end. Stricter than `@anthropic-ai/sdk`, which accumulates a
 * delta sent to a block that was already stopped.
 *
 * @module
 */

import assert from "node:assert/strict";

/** One event as the SDK yields it: the parsed `data:` of an SSE event (other fields read as needed). */
export interface AnthropicEvent {
  readonly type: string;
  readonly index?: number;
}

/** A content block as the events built it. */
export interface StreamedBlock {
  readonly type: string;
  /** `id` and `name` of a `tool_use` block. */
  readonly id?: string;
  readonly name?: string;
  /** The concatenated deltas: text, thinking or the tool input's JSON. */
  text: string;
  /** How many deltas it received. */
  deltas: number;
}

/** What a checked stream carried. */
export interface CheckedStream {
  readonly blocks: StreamedBlock[];
  /** The `message_delta`'s `delta`, when the stream completed. */
  readonly stop?: Record<string, unknown>;
  /** The `error` event's `error`, when the stream ended with one. */
  readonly error?: Record<string, unknown>;
}

const DELTA_OF: Readonly<Record<string, readonly [kind: string, field: string]>> = {
  text_delta: ["text", "text"],
  thinking_delta: ["thinking", "thinking"],
  signature_delta: ["thinking", "signature"],
  input_json_delta: ["tool_use", "partial_json"],
};

/** The events of an Anthropic SSE text; asserts each `event:` line names its data's `type`. */
export function anthropicEvents(sse: string): AnthropicEvent[] {
  return sse.split("\n\n").filter((e) => e.trim() !== "").map((raw) => {
    const lines = raw.split("\n");
    assert.equal(lines.length, 2, `an event is an event: line and a data: line: ${raw}`);
    assert(lines[0].startsWith("event: ") && lines[1].startsWith("data: "), raw);
    const data = JSON.parse(lines[1].slice("data: ".length)) as AnthropicEvent;
    assert.equal(data.type, lines[0].slice("event: ".length), `the event line names the data: ${raw}`);
    return data;
  });
}

/**
 * Asserts the protocol's order over a whole stream (SSE text or parsed events) and returns what
 * it carried.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertAnthropicOrder } from "./_anthropic_order.ts";
 * const { blocks } = assertAnthropicOrder([
 *   { type: "message_start" },
 *   { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
 *   { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
 *   { type: "content_block_stop", index: 0 },
 *   { type: "message_delta", delta: { stop_reason: "end_turn" } },
 *   { type: "message_stop" },
 * ]);
 * assert.equal(blocks[0].text, "Hi");
 * assert.throws(() =>
 *   assertAnthropicOrder([
 *     { type: "message_start" },
 *     { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
 *     { type: "content_block_stop", index: 0 },
 *     { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "late" } },
 *   ])
 * );
 * ```
 */
export function assertAnthropicOrder<E extends AnthropicEvent>(stream: string | readonly E[]): CheckedStream {
  const events: readonly AnthropicEvent[] = typeof stream === "string" ? anthropicEvents(stream) : stream;
  const blocks: StreamedBlock[] = [];
  let open = -1;
  let stop: Record<string, unknown> | undefined;
  let ended = false;
  const at = (k: number) => `event ${k} (${JSON.stringify(events[k])})`;
  assert(events.length > 0, "a stream has events");
  events.forEach((e, k) => {
    const fields = e as unknown as Record<string, unknown>;
    assert(!ended, `nothing follows message_stop or error: ${at(k)}`);
    if (e.type === "error") {
      ended = true;
      return;
    }
    if (k === 0) {
      assert.equal(e.type, "message_start", `message_start comes first: ${at(k)}`);
      return;
    }
    assert.notEqual(e.type, "message_start", `one message_start: ${at(k)}`);
    if (stop !== undefined) {
      assert.equal(e.type, "message_stop", `only message_stop follows message_delta: ${at(k)}`);
      ended = true;
      return;
    }
    switch (e.type) {
      case "ping":
        return;
      case "content_block_start": {
        assert.equal(open, -1, `a block starts only when none is open: ${at(k)}`);
        assert.equal(e.index, blocks.length, `block indexes are consecutive from 0: ${at(k)}`);
        const block = fields.content_block as Record<string, unknown>;
        assert(typeof block?.type === "string", at(k));
        const tool = block.type === "tool_use" ? { id: block.id as string, name: block.name as string } : {};
        blocks.push({ type: block.type, ...tool, text: "", deltas: 0 });
        open = blocks.length - 1;
        return;
      }
      case "content_block_delta": {
        assert.notEqual(open, -1, `a delta goes to an open block: ${at(k)}`);
        assert.equal(e.index, open, `a delta goes to the open block: ${at(k)}`);
        const d = fields.delta as Record<string, unknown>;
        const [kind, field] = DELTA_OF[String(d?.type)] ?? [];
        assert.equal(kind, blocks[open].type, `a ${String(d?.type)} fits the block's type: ${at(k)}`);
        if (d.type !== "signature_delta") blocks[open].text += String(d[field]);
        blocks[open].deltas++;
        return;
      }
      case "content_block_stop":
        assert.notEqual(open, -1, `a stop ends an open block: ${at(k)}`);
        assert.equal(e.index, open, `a stop names the open block: ${at(k)}`);
        open = -1;
        return;
      case "message_delta":
        assert.equal(open, -1, `every block is stopped before message_delta: ${at(k)}`);
        stop = fields.delta as Record<string, unknown>;
        return;
      case "message_stop":
        return assert.fail(`message_stop follows message_delta: ${at(k)}`);
      default:
        assert.fail(`an event Anthropic's stream does not have: ${at(k)}`);
    }
  });
  const last = events[events.length - 1];
  assert(
    last.type === "error" || last.type === "message_stop",
    `the stream ends with message_stop or error, not ${last.type}`,
  );
  const error = last.type === "error"
    ? (last as unknown as { error: Record<string, unknown> }).error
    : undefined;
  return { blocks, stop, error };
}
