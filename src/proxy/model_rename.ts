/**
 * Puts a model's public name back into an answer: an instance with `upstream-model` (the
 * backend knows `qwen3-8b` as `Qwen/Qwen3-8B`) answers with the backend's name in the `model`
 * field of its JSON, of every SSE chunk and NDJSON line. Clients see the name they use — the one
 * the gateway routes, lists in `/v1/models` and counts in its metrics — never the backend's.
 *
 * The rewrite works on bytes, never decoded, and holds no line, so an answer of any length is
 * renamed — a 40 MiB embeddings answer too, whose `model` comes after its `data` (OpenAI, TEI).
 * It looks for the backend's name as a JSON string (`"Qwen/Qwen3-8B"`, quotes included) and
 * replaces it only where it is the value of a `model` key: preceded by `"model"`, a `:` and
 * optional JSON whitespace (RFC 8259 §2). The key and its spacing stay as they came. The same
 * name elsewhere — in a text, escaped (`\"Qwen/Qwen3-8B\"`), under another key — is left alone.
 * Every delimiter is ASCII, and ASCII bytes never occur inside a multi-byte UTF-8 sequence, so
 * bytes need no decoding and a chunk may end anywhere.
 *
 * A stream keeps two small things: the end of a chunk that may be the start of a `model` value
 * cut by the chunk boundary (`"Qwen/Qw` after `"model":` — never more than the name; an SSE
 * event ending with its blank line is never held), and a view of the last bytes before it, so a
 * name at the start of a chunk is checked for the key that went out with the previous one. A
 * chunk without the name passes on as the same bytes.
 *
 * @module
 */

import { BACKSLASH } from "../json_chars.ts";
import { concat } from "./upstream_body.ts";
import type { Reply, StreamRewrite } from "./reply.ts";

const ENCODER = new TextEncoder();
const EMPTY: Uint8Array = new Uint8Array(0);

/** Content types whose bodies carry `model` in JSON text: JSON, SSE, NDJSON. */
const TEXTUAL = /json|event-stream/i;

/** The key before a value to rename. */
const KEY = ENCODER.encode('"model"');
const COLON = 0x3a;
/** Most JSON whitespace bytes (both sides of the `:` together) looked through before a value. */
const MAX_SPACE = 64;
/** Bytes kept from before a chunk: the whitespace, the colon, the key and the byte before it. */
const LOOK_BEHIND = 80;

/**
 * Index of `needle` in `hay` from `from`, or -1. Native `indexOf` finds the candidates by the
 * needle's second byte — the name's first — since its first, a quote, is everywhere in JSON.
 */
function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const second = needle[1];
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(second, from + 1) - 1; i >= 0 && i <= last; i = hay.indexOf(second, i + 2) - 1) {
    let j = 0;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** Byte `at` of `data`; a negative `at` reads the end of `behind` (the bytes before `data`). */
function byteAt(data: Uint8Array, behind: Uint8Array, at: number): number | undefined {
  return at >= 0 ? data[at] : behind[behind.length + at];
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Whether the string starting at `data[at]` is the value of a `model` key: before it, optional
 * whitespace, `:`, optional whitespace, `"model"` — whose opening quote is not escaped (`\"model"`
 * ends a longer key, such as `a\"model`). A needle inside a JSON string is never preceded by this:
 * its opening quote is escaped there, so the byte before it is a backslash.
 */
function isModelValue(data: Uint8Array, behind: Uint8Array, at: number): boolean {
  let i = at - 1;
  let spaces = 0;
  while (spaces < MAX_SPACE && isSpace(byteAt(data, behind, i))) (i--, spaces++);
  if (byteAt(data, behind, i) !== COLON) return false;
  i--;
  while (spaces < MAX_SPACE && isSpace(byteAt(data, behind, i))) (i--, spaces++);
  for (let k = KEY.length - 1; k >= 0; k--, i--) {
    if (byteAt(data, behind, i) !== KEY[k]) return false;
  }
  return byteAt(data, behind, i) !== BACKSLASH;
}

/** Whether `data` from `at` to its end is the start of `needle` (the end of `data` is shorter). */
function startsNeedle(data: Uint8Array, at: number, needle: Uint8Array): boolean {
  for (let i = at, j = 0; i < data.length; i++, j++) if (data[i] !== needle[j]) return false;
  return true;
}

/** The byte-level rename of one name: `rewrite` renames; `held` says where it stopped. */
class Renamer {
  /** Where the last {@linkcode rewrite} stopped: `data` from here on is a cut value, held back. */
  held = 0;
  /** The backend's name as a JSON string, quotes included. */
  readonly needle: Uint8Array;
  /** The public name as a JSON string. */
  readonly replacement: Uint8Array;

  constructor(needle: Uint8Array, replacement: Uint8Array) {
    this.needle = needle;
    this.replacement = replacement;
  }

  /**
   * `data` with every `model` value equal to the needle replaced (the same array when there is
   * none). `behind` ends with the bytes that came before `data`. Unless `final`, a possible value
   * cut at the end of `data` is left out, and {@linkcode held} says where it starts.
   */
  rewrite(data: Uint8Array, behind: Uint8Array, final: boolean): Uint8Array {
    const needle = this.needle;
    const n = needle.length;
    let parts: Uint8Array[] | undefined;
    let from = 0;
    for (let i = indexOfBytes(data, needle); i >= 0; i = indexOfBytes(data, needle, i + 1)) {
      if (i < from || !isModelValue(data, behind, i)) continue;
      (parts ??= []).push(data.subarray(from, i), this.replacement);
      from = i + n;
    }
    let cut = data.length;
    if (!final) {
      // The longest end of `data` that starts the needle and is a `model` value: `"Qwen/Qw` after
      // `"model":`. Anything else — an SSE event's blank line, a quote ending a text — goes on now.
      const first = needle[0];
      for (
        let i = data.indexOf(first, Math.max(from, data.length - n + 1));
        i >= 0;
        i = data.indexOf(first, i + 1)
      ) {
        if (startsNeedle(data, i, needle) && isModelValue(data, behind, i)) {
          cut = i;
          break;
        }
      }
    }
    this.held = cut;
    if (parts === undefined) return cut === data.length ? data : data.subarray(0, cut);
    parts.push(data.subarray(from, cut));
    return concat(parts);
  }
}

/** `behind`'s last bytes followed by `bytes`, at most {@linkcode LOOK_BEHIND} of them (a copy: both are short). */
function lastBytes(behind: Uint8Array, bytes: Uint8Array): Uint8Array {
  const keep = Math.min(behind.length, LOOK_BEHIND - bytes.length);
  const out = new Uint8Array(keep + bytes.length);
  out.set(behind.subarray(behind.length - keep));
  out.set(bytes, keep);
  return out;
}

/** The per-stream state: the held start of a cut value and the bytes before it. */
function streamRewrite(renamer: Renamer): StreamRewrite {
  let held: Uint8Array = EMPTY;
  /** Ends with the upstream's bytes just before `held` (only its last `LOOK_BEHIND` are read). */
  let behind: Uint8Array = EMPTY;
  return {
    push(chunk) {
      const data = held.length === 0 ? chunk : concat([held, chunk]);
      const out = renamer.rewrite(data, behind, false);
      const cut = renamer.held;
      if (cut === data.length) {
        // The hot path: a view of the chunk just sent, no copy (the relay keeps it anyway).
        behind = data.length >= LOOK_BEHIND ? data : lastBytes(behind, data);
        held = EMPTY;
      } else {
        const before = data.subarray(0, cut);
        behind = before.length >= LOOK_BEHIND ? before : lastBytes(behind, before);
        held = data.slice(cut); // a few bytes, not a view that keeps the chunk
      }
      return out.length === 0 && chunk.length > 0 ? undefined : out;
    },
    end() {
      // A value cut by the end of the stream is no whole name: it goes on as it came.
      const rest = held;
      held = behind = EMPTY;
      return rest.length === 0 ? undefined : rest;
    },
  };
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
 * assert.equal(new TextDecoder().decode(out), '{"model": "qwen3-8b","choices":[]}');
 * const s = r.stream("text/event-stream")!;
 * const a = s.push(new TextEncoder().encode('data: {"model":"Qwen/Qw'));
 * const b = s.push(new TextEncoder().encode('en3-8B"}\n\n'));
 * assert.equal(new TextDecoder().decode(a), 'data: {"model":'); // only the cut name waits
 * assert.equal(new TextDecoder().decode(b), '"qwen3-8b"}\n\n');
 * ```
 */
export function modelRename(from: string, to: string): Reply {
  const renamer = new Renamer(ENCODER.encode(JSON.stringify(from)), ENCODER.encode(JSON.stringify(to)));
  return {
    whole: false,
    json: (bytes) => renamer.rewrite(bytes, EMPTY, true),
    stream: (contentType) =>
      TEXTUAL.test(contentType) ? streamRewrite(new Renamer(renamer.needle, renamer.replacement)) : undefined,
  };
}
