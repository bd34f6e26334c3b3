/**
 * Byte-level reading of an HTTP/1.1 SSE response for the relay load generator, which talks raw TCP
 * (a `fetch` body stream costs the client more per chunk than the proxies it measures): where the
 * head ends, whether it is a `200` with chunked framing, how many `data:` events a read carries,
 * and whether the chunked body has ended (`\r\n0\r\n\r\n`, possibly split across reads).
 *
 * @module
 */

const D = 0x64, BRACKET = 0x5b;
const DATA = [0x64, 0x61, 0x74, 0x61, 0x3a]; // "data:"
const DONE = [0x5b, 0x44, 0x4f, 0x4e, 0x45, 0x5d]; // "[DONE]"
/** The end of a chunked body: the last chunk's CRLF, the zero-size chunk, no trailers. */
export const TERMINATOR: readonly number[] = [0x0d, 0x0a, 0x30, 0x0d, 0x0a, 0x0d, 0x0a];

function at(buf: Uint8Array, i: number, end: number, word: readonly number[]): boolean {
  if (i + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (buf[i + k] !== word[k]) return false;
  return true;
}

/** How a relay chunk starts: its id carries the upstream's send time in µs (`upstream.ts`). */
const STAMP = [...new TextEncoder().encode(' {"id":"chatcmpl-')];

function digits(buf: Uint8Array, from: number, to: number): number | undefined {
  let v = 0, i = from;
  for (; i < to && buf[i] >= 0x30 && buf[i] <= 0x39; i++) v = v * 10 + buf[i] - 0x30;
  return i > from && i < to && buf[i] === 0x22 ? v : undefined;
}

/**
 * Counts the `data:` events in `buf[from, to)`, tells whether `[DONE]` is among them, and appends
 * the send time (µs) of each event that carries one to `stamps`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanEvents } from "./sse_scan.ts";
 * const bytes = new TextEncoder().encode('data: {"id":"chatcmpl-1250"}\n\ndata: [DONE]\n\n');
 * const stamps: number[] = [];
 * assert.deepEqual(scanEvents(bytes, 0, bytes.length, stamps), { events: 2, done: true });
 * assert.deepEqual(stamps, [1250]);
 * ```
 */
export function scanEvents(
  buf: Uint8Array,
  from: number,
  to: number,
  stamps: number[],
): { events: number; done: boolean } {
  let events = 0, done = false;
  for (let i = from; i < to; i++) {
    const b = buf[i];
    if (b === D && at(buf, i, to, DATA)) {
      events++;
      i += DATA.length;
      if (at(buf, i, to, STAMP)) {
        const us = digits(buf, i + STAMP.length, to);
        if (us !== undefined) stamps.push(us);
      }
      i--;
    } else if (b === BRACKET && at(buf, i, to, DONE)) done = true;
  }
  return { events, done };
}

/** Remembers the last bytes of a body across reads, to spot the chunked terminator. */
export class Tail {
  readonly #last = new Uint8Array(TERMINATOR.length);
  #size = 0;

  /**
   * Adds `buf[from, to)`; true when the body read so far ends with {@linkcode TERMINATOR}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Tail } from "./sse_scan.ts";
   * const tail = new Tail(), bytes = new TextEncoder().encode("5\r\nhello\r\n0\r\n\r\n");
   * assert.equal(tail.push(bytes, 0, 12), false);
   * assert.equal(tail.push(bytes, 12, bytes.length), true);
   * ```
   */
  push(buf: Uint8Array, from: number, to: number): boolean {
    const keep = this.#last.length, n = to - from;
    if (n >= keep) this.#last.set(buf.subarray(to - keep, to));
    else {
      this.#last.copyWithin(0, n);
      this.#last.set(buf.subarray(from, to), keep - n);
    }
    this.#size = Math.min(keep, this.#size + n);
    if (this.#size < keep) return false;
    for (let i = 0; i < keep; i++) if (this.#last[i] !== TERMINATOR[i]) return false;
    return true;
  }
}

/** Parsed response head. */
export interface Head {
  /** Bytes of the head, `\r\n\r\n` included: the body starts there. */
  readonly length: number;
  readonly status: number;
  readonly chunked: boolean;
}

/**
 * Parses the response head when `text` (the bytes read so far, latin1) holds all of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHead } from "./sse_scan.ts";
 * const head = parseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nabc");
 * assert.deepEqual(head, { length: 47, status: 200, chunked: true });
 * assert.equal(parseHead("HTTP/1.1 200 OK\r\n"), undefined);
 * ```
 */
export function parseHead(text: string): Head | undefined {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const head = text.slice(0, end);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  return { length: end + 4, status, chunked: /\r\ntransfer-encoding:[ \t]*chunked/i.test(head) };
}
