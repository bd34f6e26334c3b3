/**
 * Puts a model's public name back into an answer: an instance with `upstream-model` (the
 * backend knows `qwen3-8b` as `Qwen/Qwen3-8B`) answers with the backend's name in the `model`
 * field of its JSON, of every SSE chunk and NDJSON line. Clients see the name they use — the one
 * the gateway routes, lists in `/v1/models` and counts in its metrics — never the backend's.
 *
 * The rewrite works on bytes: a chunk without the backend's name (as a JSON string) passes
 * untouched and undecoded; one with it has every `"model": "<backend name>"` replaced. A stream
 * keeps back only an unfinished line (SSE events and NDJSON answers end with a newline, and a
 * client can use no partial line), so nothing complete is ever held.
 *
 * @module
 */

import { MAX_PARTIAL_LINE } from "../adapters/line_stream.ts";
import { concat } from "./upstream_body.ts";
import type { Reply, StreamRewrite } from "./request.ts";

const ENCODER = new TextEncoder();
const NEWLINE = 10;

/** Content types whose bodies carry `model` in JSON text: JSON, SSE, NDJSON. */
const TEXTUAL = /json|event-stream/i;

/** Index of `needle` in `hay`, or -1 (native `indexOf` on the first byte between candidates). */
function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** Escapes a literal for a `RegExp`. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The {@linkcode Reply} that renames `from` (the backend's model name) to `to` (its public name)
 * in the `model` fields of an answer. Built once per instance at runtime build; each stream gets
 * its own small state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelRename } from "./model_rename.ts";
 * const r = modelRename("Qwen/Qwen3-8B", "qwen3-8b");
 * const out = r.json(new TextEncoder().encode('{"model": "Qwen/Qwen3-8B","choices":[]}'));
 * assert.equal(new TextDecoder().decode(out), '{"model":"qwen3-8b","choices":[]}');
 * const s = r.stream("text/event-stream")!;
 * const a = s.push(new TextEncoder().encode('data: {"model":"Qwen/Qw'));
 * const b = s.push(new TextEncoder().encode('en3-8B"}\n\n'));
 * assert.equal(a, undefined);
 * assert.equal(new TextDecoder().decode(b), 'data: {"model":"qwen3-8b"}\n\n');
 * ```
 */
export function modelRename(from: string, to: string): Reply {
  const needle = ENCODER.encode(JSON.stringify(from));
  const field = new RegExp(`"model"\\s*:\\s*${escape(JSON.stringify(from))}`, "g");
  const replacement = `"model":${JSON.stringify(to)}`;
  const rewrite = (bytes: Uint8Array): Uint8Array => {
    if (indexOfBytes(bytes, needle) < 0) return bytes;
    const text = new TextDecoder().decode(bytes);
    const out = text.replace(field, () => replacement);
    return out === text ? bytes : ENCODER.encode(out);
  };
  return {
    whole: false,
    json: rewrite,
    stream: (contentType) => (TEXTUAL.test(contentType) ? lineRewrite(rewrite) : undefined),
  };
}

/**
 * Applies `rewrite` to whole lines only, carrying an unfinished last line to the next chunk (as a
 * list of parts, joined once its end comes). A line longer than `MAX_PARTIAL_LINE` is not held: it
 * goes on as it is, up to and including its end, unrenamed (a broken or foreign stream).
 */
function lineRewrite(rewrite: (bytes: Uint8Array) => Uint8Array): StreamRewrite {
  let parts: Uint8Array[] = [];
  let held = 0;
  let passing = false;
  /** Holds `tail` (an unfinished line); returns what must go on now because it is too long. */
  const hold = (tail: Uint8Array): Uint8Array | undefined => {
    parts.push(tail);
    held += tail.byteLength;
    if (held <= MAX_PARTIAL_LINE) return undefined;
    const out = concat(parts);
    parts = [];
    held = 0;
    passing = true;
    return out;
  };
  const push = (chunk: Uint8Array): Uint8Array | undefined => {
    const nl = chunk.indexOf(NEWLINE);
    if (passing) {
      if (nl < 0) return chunk;
      passing = false;
      const rest = push(chunk.subarray(nl + 1));
      return rest ? concat([chunk.subarray(0, nl + 1), rest]) : chunk.subarray(0, nl + 1);
    }
    if (nl < 0) return hold(chunk.slice());
    const bytes = held === 0 ? chunk : concat([...parts, chunk]);
    parts = [];
    held = 0;
    const cut = bytes.lastIndexOf(NEWLINE) + 1;
    if (cut === bytes.length) return rewrite(bytes);
    const head = rewrite(bytes.subarray(0, cut));
    const over = hold(bytes.slice(cut));
    return over ? concat([head, over]) : head;
  };
  return {
    push,
    end() {
      const rest = held === 0 ? undefined : concat(parts);
      parts = [];
      held = 0;
      return rest && rewrite(rest);
    },
  };
}
