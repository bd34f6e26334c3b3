/**
 * Reading one small text field of a multipart/form-data body (RFC 7578) without parsing the
 * files in it, so that an adapter can check e.g. a transcription's `response_format` while the
 * bytes are still forwarded untouched.
 *
 * @module
 */

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();
const CRLFCRLF = encoder.encode("\r\n\r\n");

/**
 * The boundary parameter of a multipart content type, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundaryOf } from "./multipart.ts";
 * assert(boundaryOf('multipart/form-data; boundary="abc"') === "abc");
 * ```
 */
export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/**
 * Position of `needle` in `hay` from `from`, or -1. Jumps between candidates with the typed
 * array's native `indexOf` on the first byte, so a file part is skipped at memory speed.
 */
function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  let i = hay.indexOf(first, from);
  while (i >= 0 && i <= last) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
    i = hay.indexOf(first, i + 1);
  }
  return -1;
}

/** Where the value of the first text field called `name` lies in `bytes`, or `undefined`. */
function fieldRange(bytes: Uint8Array, contentType: string, name: string): [number, number] | undefined {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) return undefined;
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  // The first delimiter may open the body without the leading CRLF (RFC 2046 §5.1.1).
  let at = indexOfBytes(bytes, delimiter.subarray(2), 0);
  while (at >= 0) {
    const headersStart = at + delimiter.length; // past "--boundary\r\n" (same length as "\r\n--boundary")
    const headersEnd = indexOfBytes(bytes, CRLFCRLF, headersStart);
    if (headersEnd < 0) return undefined;
    const headers = latin1.decode(bytes.subarray(headersStart, headersEnd));
    const next = indexOfBytes(bytes, delimiter, headersEnd);
    const m = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(headers);
    if (m && m[1] === name && !/filename\*?=/i.test(headers)) {
      return [headersEnd + 4, next < 0 ? bytes.length : next];
    }
    if (next < 0) return undefined;
    at = next + 2;
  }
  return undefined;
}

/**
 * The value of the first text field called `name`, or `undefined` when absent (or when the body
 * is not multipart). Walks part headers only: a 25 MB audio upload is never decoded to a string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formField } from "./multipart.ts";
 * const body = new TextEncoder().encode(
 *   '--b\r\nContent-Disposition: form-data; name="response_format"\r\n\r\nsrt\r\n--b--\r\n',
 * );
 * assert(formField(body, "multipart/form-data; boundary=b", "response_format") === "srt");
 * ```
 */
export function formField(bytes: Uint8Array, contentType: string, name: string): string | undefined {
  const range = fieldRange(bytes, contentType, name);
  return range === undefined ? undefined : utf8.decode(bytes.subarray(range[0], range[1])).trim();
}

/**
 * The body with the value of text field `name` replaced by `value` (the upstream's model name),
 * every other byte — files included — copied as it was; `undefined` when there is no such field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceFormField } from "./multipart.ts";
 * const body = new TextEncoder().encode('--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nw\r\n--b--\r\n');
 * const out = replaceFormField(body, "multipart/form-data; boundary=b", "model", "whisper-large-v3");
 * assert.equal(new TextDecoder().decode(out), '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-large-v3\r\n--b--\r\n');
 * ```
 */
export function replaceFormField(
  bytes: Uint8Array,
  contentType: string,
  name: string,
  value: string,
): Uint8Array<ArrayBuffer> | undefined {
  const range = fieldRange(bytes, contentType, name);
  if (range === undefined) return undefined;
  const [from, to] = range;
  const text = encoder.encode(value);
  const out = new Uint8Array(bytes.byteLength - (to - from) + text.byteLength);
  out.set(bytes.subarray(0, from));
  out.set(text, from);
  out.set(bytes.subarray(to), from + text.byteLength);
  return out;
}
