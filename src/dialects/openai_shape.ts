/**
 * Reading the OpenAI chat shapes every dialect translates from (OpenAI API reference, "The chat
 * completion object" and "The chat completion chunk object"): the first choice of an answer, and
 * the parts of a stream chunk handed to a visitor, so the per-chunk path allocates nothing here.
 *
 * @module
 */

import { UpstreamError } from "../errors.ts";
import { isRecord, type Json } from "./request_body.ts";

/**
 * `choices[0]` of a `chat.completion` and its `message`; throws `UpstreamError` when absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstChoice } from "./openai_shape.ts";
 * assert.equal(firstChoice({ choices: [{ message: { content: "x" } }] }).message.content, "x");
 * assert.throws(() => firstChoice({ choices: [] }), /no choices\[0\]\.message/);
 * ```
 */
export function firstChoice(openai: unknown): { choice: Json; message: Json; usage: unknown } {
  const choice = isRecord(openai) && Array.isArray(openai.choices) ? openai.choices[0] : undefined;
  if (!isRecord(choice) || !isRecord(choice.message)) {
    throw new UpstreamError("The upstream chat completion has no choices[0].message.");
  }
  return { choice, message: choice.message, usage: (openai as Json).usage };
}

/** The reasoning text of a message or delta (`reasoning_content`, or vLLM's newer `reasoning`). */
export function reasoningOf(m: Json): string | undefined {
  const r = m.reasoning_content ?? m.reasoning;
  return typeof r === "string" && r !== "" ? r : undefined;
}

/** What a stream translator does with the parts of one chunk, in this order. */
export interface ChunkVisitor {
  usage(usage: Json): void;
  reasoning(text: string): void;
  content(text: string): void;
  toolCalls(deltas: unknown[]): void;
  /** `reason` is the finish reason; `matched` is vLLM's `stop_reason` (the stop string hit). */
  finish(reason: unknown, matched: unknown): void;
}

/**
 * Hands the parts of a `chat.completion.chunk` to a visitor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { visitChunk } from "./openai_shape.ts";
 * const seen: string[] = [];
 * visitChunk({ choices: [{ delta: { content: "a" }, finish_reason: "stop" }] }, {
 *   usage: () => seen.push("usage"),
 *   reasoning: () => seen.push("reasoning"),
 *   content: (t) => seen.push(t),
 *   toolCalls: () => seen.push("tools"),
 *   finish: (r) => seen.push(String(r)),
 * });
 * assert.deepEqual(seen, ["a", "stop"]);
 * ```
 */
export function visitChunk(value: Json, v: ChunkVisitor): void {
  if (isRecord(value.usage)) v.usage(value.usage);
  const choice = Array.isArray(value.choices) ? value.choices[0] : undefined;
  if (!isRecord(choice)) return;
  if (isRecord(choice.delta)) {
    const d = choice.delta;
    const reasoning = reasoningOf(d);
    if (reasoning !== undefined) v.reasoning(reasoning);
    if (typeof d.content === "string" && d.content !== "") v.content(d.content);
    if (Array.isArray(d.tool_calls)) v.toolCalls(d.tool_calls);
  }
  if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
    v.finish(choice.finish_reason, choice.stop_reason);
  }
}

/** One streamed tool-call delta, read tolerantly (OpenAI sends `id` and `name` only first). */
export interface ToolDelta {
  readonly index: number;
  readonly id: string | undefined;
  readonly name: string;
  readonly args: string;
}

/**
 * Reads a `delta.tool_calls[]` entry; `undefined` for one that is not an object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toolDelta } from "./openai_shape.ts";
 * assert.deepEqual(toolDelta({ index: 1, function: { arguments: "{" } }), { index: 1, id: undefined, name: "", args: "{" });
 * ```
 */
export function toolDelta(call: unknown): ToolDelta | undefined {
  if (!isRecord(call)) return undefined;
  const fn = isRecord(call.function) ? call.function : {};
  return {
    index: typeof call.index === "number" ? call.index : 0,
    id: typeof call.id === "string" && call.id !== "" ? call.id : undefined,
    name: typeof fn.name === "string" ? fn.name : "",
    args: typeof fn.arguments === "string" ? fn.arguments : "",
  };
}
