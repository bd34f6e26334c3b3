/**
 * Duplicate top-level keys in a JSON body. `JSON.parse` keeps the last of two equal keys, other
 * parsers keep the first: `{"model":"other","model":"allowed"}` would be routed and authorised as
 * `allowed` while a first-key backend serves `other`. RFC 8259 §4 only says names "SHOULD be
 * unique", so the gateway refuses such a body rather than guess which one the backend reads.
 *
 * The check runs on text `JSON.parse` already accepted, and only when a duplicate is possible:
 * a key equal to `name` is either the literal `"name"` or is spelled with a `\u` escape, so one
 * literal occurrence and no escape of an ASCII letter prove it unique without a scan (two native
 * substring searches on the happy path).
 *
 * @module
 */

import {
  BACKSLASH,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COMMA,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
} from "../json_chars.ts";

/** `\u0061`…`\u007a` (a–z) start with one of these; no serializer escapes ASCII letters by default. */
const LETTER_ESCAPES = ["\\u006", "\\u007"];

/**
 * Whether the top-level object of `text` (valid JSON) has `name` (lower-case ASCII letters) as a
 * key more than once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasDuplicateKey } from "./duplicate_key.ts";
 * assert.equal(hasDuplicateKey('{"model":"a","model":"b"}', "model"), true);
 * assert.equal(hasDuplicateKey('{"model":"a","\\u006dodel":"b"}', "model"), true);
 * assert.equal(hasDuplicateKey('{"model":"a","tools":[{"model":"b"}]}', "model"), false);
 * ```
 */
export function hasDuplicateKey(text: string, name: string): boolean {
  if (quotedOccurrences(text, name) < 2 && !LETTER_ESCAPES.some((e) => text.includes(e))) return false;
  return countTopLevelKey(text, name) > 1;
}

/**
 * How many times `"name"` occurs, counting up to 2. Searched as `name` and the quotes checked
 * around each hit: V8 finds a pattern that starts or ends with `"` (the commonest character of
 * JSON) ~15× slower.
 */
function quotedOccurrences(text: string, name: string): number {
  let n = 0;
  for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + name.length)) {
    if (text.charCodeAt(i - 1) === QUOTE && text.charCodeAt(i + name.length) === QUOTE && ++n === 2) break;
  }
  return n;
}

/** Index of the quote closing the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  for (;;) {
    let slashes = 0;
    while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

/** How many keys of the top-level object equal `name` once unescaped. */
function countTopLevelKey(text: string, name: string): number {
  let depth = 0;
  let expectKey = false;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === 1 && expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes("\\") ? JSON.parse(`"${raw}"`) as string : raw;
        if (key === name) count++;
        expectKey = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      expectKey = depth === 1;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    } else if (c === COMMA && depth === 1) {
      expectKey = true;
    }
  }
  return count;
}
