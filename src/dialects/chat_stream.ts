/**
 * The life cycle every dialect's stream shares, in one place: opening events on the first chunk,
 * the parts of each chunk handed to the dialect, the answer closed as soon as both the finish
 * reason and the usage chunk are in (or at `[DONE]`, or when the upstream closes after its finish
 * reason), and the dialect's error event for an upstream error, a broken connection, or an
 * upstream that closes before it finished. A dialect supplies only its event writers.
 *
 * @module
 */

import { UpstreamError } from "../errors.ts";
import { type ToolDelta, toolDelta, visitChunk } from "./openai_shape.ts";
import type { Json } from "./request_body.ts";
import { createSseTranslator } from "./sse_reader.ts";
import type { StreamTranslator } from "./types.ts";

/**
 * The most a translator holds back while a tool call's arguments are unfinished (text that would
 * stop the call's block, pieces of calls that began after it), in UTF-16 units: far above the line
 * or two a model writes between parallel calls. Past it everything held goes out at once, and the
 * unfinished call ends there.
 */
export const MAX_HELD = 1 << 20;

/** The message of a stream the upstream closed before its finish reason. */
export const TRUNCATED = "The upstream stream ended before the answer was complete.";

/**
 * Tells parallel tool calls apart when a backend numbers them all the same: Ollama's OpenAI
 * endpoint streams every call of an answer under `index` 0 (ollama/ollama#15457), each with its own
 * `id`. A delta that names its function (a call's first delta does) with an `id` other than the one
 * its index carries starts a new call, under an index of its own; everything else keeps the index the
 * backend gave (the usual case: nothing changes). A later piece with another id but no name stays
 * with its call: some backends put a fresh id on every piece.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callNumbering } from "./chat_stream.ts";
 * const calls = callNumbering();
 * const d = (id: string | undefined, args: string) => calls({ index: 0, id, name: id ? "f" : "", args });
 * assert.deepEqual([d("a", "{}"), d("b", "{"), d(undefined, "}")].map((c) => c.index), [0, 1, 1]);
 * assert.equal(calls({ index: 0, id: "z", name: "", args: " " }).index, 1, "no name: the same call");
 * ```
 */
export function callNumbering(): (d: ToolDelta) => ToolDelta {
  /** Per upstream index, the call it names now: its id (once known) and our index for it. */
  const byIndex = new Map<number, { id: string | undefined; index: number }>();
  const used = new Set<number>();
  let next = 0;
  const fresh = (want: number): number => {
    let index = want;
    if (used.has(index)) {
      while (used.has(next)) next++;
      index = next;
    }
    used.add(index);
    return index;
  };
  return (d) => {
    let call = byIndex.get(d.index);
    if (
      call === undefined || (d.name !== "" && d.id !== undefined && call.id !== undefined && d.id !== call.id)
    ) {
      call = { id: d.id, index: fresh(d.index) };
      byIndex.set(d.index, call);
    } else if (call.id === undefined) {
      call.id = d.id;
    }
    return call.index === d.index ? d : { ...d, index: call.index };
  };
}

/** A dialect's event writers; each returns the text to send. */
export interface ChatStreamWriter {
  /** The opening events, once, before anything else. */
  start(): string;
  reasoning(text: string): string;
  content(text: string): string;
  /** One tool-call delta (OpenAI sends `id` and `name` with a call's first delta only). */
  toolCall(delta: ToolDelta): string;
  /** The finish reason arrived (`matched`: vLLM's `stop_reason`). May throw `UpstreamError`. */
  finish(reason: unknown, matched: unknown): string;
  /** The closing events, once; `finish` is undefined when `[DONE]` came without one. */
  finalize(finish: unknown, usage: Json | undefined): string;
  /** The dialect's error event. */
  error(message: string): string;
}

/**
 * A push-style translator around a dialect's writers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createChatStream } from "./chat_stream.ts";
 * import { runSplit } from "./_testing.ts";
 * const t = createChatStream({
 *   start: () => "<", reasoning: () => "", content: (s) => s, toolCall: () => "",
 *   finish: () => "|", finalize: (_f, u) => `${u?.completion_tokens}>`, error: (m) => `!${m}`,
 * });
 * const out = runSplit(t, 'data: {"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]}\n\n' +
 *   'data: {"choices":[],"usage":{"completion_tokens":1}}\n\n');
 * assert.equal(out, "<a|1>");
 * ```
 */
export function createChatStream(w: ChatStreamWriter): StreamTranslator {
  let started = false;
  let finished = false;
  let sawFinish = false;
  let finish: unknown;
  let usage: Json | undefined;
  let out = "";
  /** Why this translator ended the stream with its error event itself, if it did. */
  let failure: string | undefined;
  const fail = (message: string): string => {
    finished = true;
    failure ??= message;
    return w.error(message);
  };

  const begin = (): string => {
    if (started) return "";
    started = true;
    return w.start();
  };
  const close = (): string => {
    finished = true;
    return begin() + w.finalize(finish, usage);
  };
  const calls = callNumbering();
  const visitor = {
    usage(u: Json) {
      usage = u;
    },
    reasoning(t: string) {
      out += w.reasoning(t);
    },
    content(t: string) {
      out += w.content(t);
    },
    toolCalls(deltas: unknown[]) {
      for (const call of deltas) {
        const d = toolDelta(call);
        if (d) out += w.toolCall(calls(d));
      }
    },
    finish(reason: unknown, matched: unknown) {
      sawFinish = true;
      finish = reason;
      out += w.finish(reason, matched);
    },
  };
  /** Runs a step; an `UpstreamError` from a writer (e.g. tool arguments that are not JSON) ends the stream. */
  const guarded = (step: () => string): string => {
    try {
      return step();
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      return out + fail(error.message);
    }
  };

  return createSseTranslator({
    chunk: (value) =>
      finished ? "" : guarded(() => {
        out = begin();
        visitChunk(value, visitor);
        if (sawFinish && usage) out += close();
        return out;
      }),
    done: () =>
      finished ? "" : guarded(() => {
        out = "";
        return close();
      }),
    // After the closing events the client has its whole answer: a late error is not its failure.
    error: (message) => finished ? "" : fail(message),
    end: () => {
      if (finished) return "";
      if (!sawFinish) return fail(TRUNCATED);
      out = "";
      return guarded(close);
    },
    failed: () => failure,
  });
}
