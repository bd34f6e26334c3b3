/**
 * Reading a request body against slow and greedy clients. A client that stops half-way through
 * its body would otherwise hold the connection, and up to `server.body-limit` of memory, forever.
 *
 * - **Idle deadline** (`server.body-idle-timeout`): the longest gap between two pieces of the body.
 *   A sized body up to {@linkcode WHOLE_READ_MAX} is read in one native call (the fast path: it
 *   has nearly always arrived with the head) and must then arrive whole within one idle timeout —
 *   64 KiB in 30 s is 2 KiB/s, no live client is slower.
 * - **Total deadline** (`server.body-timeout`): the whole body, however steady.
 * - **Pending bytes** (`server.max-pending-body-bytes`): one gateway-wide count of the bytes of
 *   bodies being received. A body reserves its declared length before a byte is read (a chunked
 *   one, each chunk as it comes); past the cap the request is refused with 503 and `Retry-After`
 *   instead of memory growing. Every reservation is released exactly once, in `finally`, on every
 *   path: complete, too large, timed out, refused, client gone.
 *
 * **Closing the connection.** Deno's HTTP/1.1 server (2.9, `ext/http/http_next.rs`), after
 * answering a request whose body nobody reads, reads and discards the rest with no deadline, and
 * a body read in flight cannot be aborted from JS: only data, the client's close, or the graceful
 * shutdown of the listener that accepted it (see `listener.ts`) end it. So an early answer never
 * leaves a body to Deno's discard: after a 408 the reader is cancelled as soon as its read in
 * flight settles, which closes the connection; after any other early answer (413, 503, and via
 * {@linkcode drainUnread} 401, 404, 415, a global 429…) the rest is read and dropped under the
 * same deadlines, so a well-behaved client gets its answer and then a clean close.
 *
 * Deadlines ride the gateway's one {@linkcode DeadlineSweep} timer: no `setTimeout` per request,
 * and a chunk only moves a number.
 *
 * @module
 */

import { GatewayError, OverloadedError, PayloadTooLargeError, RequestTimeoutError } from "../errors.ts";
import type { DeadlineSweep, Watch } from "../proxy/deadlines.ts";
import { Link } from "../linked_list.ts";
import type { PendingBodies } from "./pending_bodies.ts";

export { PendingBodies } from "./pending_bodies.ts";

/** Seconds a client refused for pending bytes is asked to wait. */
const RETRY_AFTER_S = 1;

const EMPTY = new Uint8Array(0);

/** Limits of {@linkcode readGuarded}, from `server.*`. */
export interface BodyGuardOptions {
  /** `server.body-limit`: larger → 413. */
  readonly limit: number;
  /** `server.body-idle-timeout`, ms. */
  readonly idleTimeoutMs: number;
  /** `server.body-timeout`, ms. */
  readonly totalTimeoutMs: number;
  /** `server.max-pending-body-bytes`. */
  readonly maxPendingBytes: number;
  readonly pending: PendingBodies;
  readonly deadlines: DeadlineSweep;
}

/** Sized bodies up to this are read in one native call. */
export const WHOLE_READ_MAX = 64 * 1024;

/**
 * The buffers a chunked body is read through. Deno (2.9) keeps the buffer of the read that finds
 * the end on the request's stream for as long as the request lives (see {@linkcode BodyRead.end}).
 * With no declared length that read cannot be told apart in advance, but it nearly always follows
 * a read that did not fill its buffer (the client's bytes had run out): after such a read the next
 * goes through the small buffer, after a full one through the large (a big body still moves in
 * large reads). The default reader would give every read a fresh 64 KiB.
 */
const CHUNKED_READ_SMALL = 8 * 1024;
const CHUNKED_READ_LARGE = 64 * 1024;

/**
 * One body being read: its deadline (as a {@linkcode Watch} of the sweep), its reservation, and
 * what happens to the connection when reading stops early.
 */
class BodyRead implements Watch {
  due: number;
  readonly dueLink: Link<Watch> = new Link(this);
  reserved = 0;
  timedOut: RequestTimeoutError | undefined;
  readonly #start: number;
  readonly #body: ReadableStream<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader;
  /** A chunked body's read buffers, each handed to a read and handed back with its bytes (`#small` is
   * set only for a chunked byte stream: it selects the BYOB reads). */
  #small: ArrayBuffer | undefined;
  #large: ArrayBuffer | undefined;
  /** The last read filled its buffer: more is likely waiting. */
  #full = false;
  /** Rejects the read in progress when the deadline passes (the reader itself stays open). */
  readonly #expired = Promise.withResolvers<never>();
  /** The read in flight, if any: Deno cannot abort it, only the client or a listener renewal. */
  #inFlight: Promise<unknown> | undefined;

  /** `chunked`: read through {@linkcode CHUNKED_READ_SMALL} buffers (when the body is a byte stream). */
  constructor(readonly o: BodyGuardOptions, body: ReadableStream<Uint8Array>, chunked = false) {
    this.#start = o.deadlines.now();
    this.due = this.#start + Math.min(o.idleTimeoutMs, o.totalTimeoutMs);
    this.#body = body;
    this.#reader = (chunked && byobReader(body)) || body.getReader();
    if (this.#reader instanceof ReadableStreamBYOBReader) this.#small = new ArrayBuffer(CHUNKED_READ_SMALL);
    this.#expired.promise.catch(() => {});
    o.deadlines.add(this);
    o.pending.readStarted();
  }

  /** Reserves `n` more pending bytes or throws 503. */
  reserve(n: number): void {
    if (!this.o.pending.tryReserve(n, this.o.maxPendingBytes)) throw overloaded();
    this.reserved += n;
  }

  /** The next piece, or `undefined` at the end; throws 408 past a deadline, 499 if the client left. */
  async next(): Promise<Uint8Array | undefined> {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      const read = this.#small
        ? this.#readChunked()
        : (this.#reader as ReadableStreamDefaultReader<Uint8Array>).read();
      this.#inFlight = read;
      result = await Promise.race([read, this.#expired.promise]);
      this.#inFlight = undefined;
    } catch (error) {
      throw this.timedOut ?? clientGone(error);
    }
    if (result.done) return undefined;
    const now = this.o.deadlines.now();
    this.due = Math.min(now + this.o.idleTimeoutMs, this.#start + this.o.totalTimeoutMs);
    if (!this.#small) return result.value;
    const buffer = result.value.buffer as ArrayBuffer;
    this.#full = result.value.byteLength === buffer.byteLength;
    if (buffer.byteLength === CHUNKED_READ_LARGE) this.#large = buffer;
    else this.#small = buffer;
    return result.value.slice(); // copied out: the buffer goes into a later read
  }

  /** A read of a chunked body into the buffer the last read's size calls for. */
  #readChunked(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const buffer = this.#full ? (this.#large ??= new ArrayBuffer(CHUNKED_READ_LARGE)) : this.#small!;
    return (this.#reader as ReadableStreamBYOBReader).read(new Uint8Array(buffer));
  }

  /**
   * The end of a body whose declared bytes have all come (no deadline race: it is there already),
   * read through a one-byte view. The default reader's last read would leave its 64 KiB buffer on
   * the request's stream (Deno 2.9 keeps a pending pull-into after the stream closes) for as long
   * as the answer lasts: a long stream with a large prompt kept it. Not reading the end at all
   * would make Deno close the keep-alive connection.
   */
  async end(): Promise<undefined> {
    this.#reader.releaseLock();
    const byob = byobReader(this.#body);
    try {
      await (byob ? byob.read(new Uint8Array(1)) : this.#body.getReader().read());
    } catch (error) {
      throw clientGone(error);
    }
    return undefined; // nothing past the declared length: HTTP/1.1 framing ends the body there
  }

  /** Called by the sweep: a deadline passed. */
  expire(): void {
    const total = this.o.deadlines.now() >= this.#start + this.o.totalTimeoutMs;
    this.timedOut = new RequestTimeoutError(
      total
        ? `The request body did not arrive within ${this.o.totalTimeoutMs} ms.`
        : `The request body stalled: nothing arrived for ${this.o.idleTimeoutMs} ms.`,
    );
    this.#expired.reject(this.timedOut);
  }

  /**
   * Reading is over: the reservation is given back (exactly once). Complete: the deadline is
   * dropped. Timed out: the reader is cancelled (closing the connection) as soon as the read in
   * flight settles. Otherwise (an early answer) the rest is drained under the same deadlines.
   */
  finish(complete: boolean): void {
    this.o.pending.release(this.reserved);
    this.reserved = 0;
    if (complete || this.timedOut) this.o.pending.readEnded(); // a drain ends its read itself
    if (complete) this.o.deadlines.delete(this);
    else if (this.timedOut) this.#closeAfterRead();
    else void this.#drain();
  }

  /** Reads and drops the rest; when it ends, stalls or the client leaves, the connection closes. */
  async #drain(): Promise<void> {
    try {
      while (await this.next() !== undefined) { /* dropped */ }
    } catch { /* stalled, or the client left */ }
    this.o.deadlines.delete(this);
    this.o.pending.readEnded();
    this.#closeAfterRead();
  }

  /**
   * Cancels the reader once no read is in flight. Cancelling with a read in flight would not
   * close the connection (Deno's read holds it until data, the client's close, or a listener
   * renewal, which cancels it).
   */
  #closeAfterRead(): void {
    const cancel = () => void this.#reader.cancel().catch(() => {});
    if (this.#inFlight) this.#inFlight.then(cancel, cancel);
    else cancel();
  }
}

/** A BYOB reader of `body`, or `undefined` when it is not a byte stream (Deno's request bodies are). */
function byobReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return body.getReader({ mode: "byob" });
  } catch {
    return undefined; // not a byte stream: a default reader allocates nothing ahead
  }
}

/** The client closed the connection before its body was complete: logged and counted as 499. */
function clientGone(error: unknown): GatewayError {
  return error instanceof GatewayError ? error : new GatewayError(
    499,
    "invalid_request_error",
    "client_abort",
    "The client closed the connection before the request body was complete.",
  );
}

/**
 * Reads the whole body of `req` within the limits of `o`: 413 past `limit`, 408 when it stalls or
 * takes too long, 503 (`Retry-After`) when the gateway already receives `maxPendingBytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeadlineSweep } from "../proxy/deadlines.ts";
 * import { PendingBodies, readGuarded } from "./body_guard.ts";
 * const o = {
 *   limit: 1024, idleTimeoutMs: 30_000, totalTimeoutMs: 300_000, maxPendingBytes: 1 << 20,
 *   pending: new PendingBodies(), deadlines: new DeadlineSweep(),
 * };
 * const bytes = await readGuarded(new Request("http://x", { method: "POST", body: "abc" }), o);
 * assert.equal(bytes.byteLength, 3);
 * assert.equal(o.pending.bytes, 0);
 * o.deadlines.stop();
 * ```
 */
export function readGuarded(req: Request, o: BodyGuardOptions): Promise<Uint8Array> {
  // `req.body` is not touched on the fast path: the getter makes a JS stream over the socket's
  // body, and `bytes()` then collects through it instead of Deno's one native read.
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared >= 0 && declared <= WHOLE_READ_MAX && declared <= o.limit && !NO_BODY.has(req.method)) {
    return readWhole(req, o, declared);
  }
  if (!req.body) return Promise.resolve(EMPTY);
  return readChunks(req.body, o, declared);
}

/** Methods whose requests Deno gives no body (`req.body` is `null` whatever the headers say). */
const NO_BODY: ReadonlySet<string> = new Set(["GET", "HEAD"]);

/** 503 for a body that does not fit under the pending-bytes cap. */
function overloaded(): OverloadedError {
  return new OverloadedError(
    "The gateway is receiving too many request bodies at once; retry shortly.",
    RETRY_AFTER_S,
  );
}

/**
 * A small sized body in one native read (the request path's fast path: usually already received
 * with the head), which must arrive whole within one idle timeout. Its reservation lasts until
 * that read settles, even past a 408: until then Deno may still be filling its buffer.
 */
function readWhole(req: Request, o: BodyGuardOptions, declared: number): Promise<Uint8Array> {
  if (!o.pending.tryReserve(declared, o.maxPendingBytes)) {
    drainUnread(req, o);
    return Promise.reject(overloaded());
  }
  // One object is the deadline and the cleanup (no resolvers record, `finally` chain or async
  // wrapper: this runs for every request).
  return new Promise((resolve, reject) => {
    const read = new WholeRead(o, declared, reject);
    o.deadlines.add(read);
    req.bytes().then((bytes) => {
      read.done();
      resolve(bytes);
    }, (error) => {
      read.done();
      reject(clientGone(error));
    });
  });
}

/** The deadline of a {@linkcode readWhole}, and the reservation it gives back when the read settles. */
class WholeRead implements Watch {
  due: number;
  readonly dueLink: Link<Watch> = new Link(this);
  readonly #start: number;

  constructor(
    readonly o: BodyGuardOptions,
    readonly declared: number,
    readonly reject: (error: RequestTimeoutError) => void,
  ) {
    this.#start = o.deadlines.now();
    this.due = this.#start + Math.min(o.idleTimeoutMs, o.totalTimeoutMs);
    o.pending.readStarted();
  }

  /** Counted in `pending.reads` until the 408 or the read's end, whichever comes first. */
  #receiving = true;

  /** The body did not arrive in time: 408 now; the reservation waits for the read to settle. */
  expire(): void {
    // No longer received: the read Deno still holds ends only when the connection closes, which
    // the next listener renewal does — it must not wait for it.
    this.#received();
    this.reject(
      new RequestTimeoutError(
        `The request body did not arrive within ${Math.round(this.o.deadlines.now() - this.#start)} ms.`,
      ),
    );
  }

  /** The native read settled (whole, failed, or after a 408). */
  done(): void {
    this.o.pending.release(this.declared);
    this.#received();
    this.o.deadlines.delete(this);
  }

  #received(): void {
    if (!this.#receiving) return;
    this.#receiving = false;
    this.o.pending.readEnded();
  }
}

/** Chunk by chunk, each moving the idle deadline; a chunked body reserves as it arrives. */
async function readChunks(
  body: ReadableStream<Uint8Array>,
  o: BodyGuardOptions,
  declared: number,
): Promise<Uint8Array> {
  const read = new BodyRead(o, body, !(declared >= 0));
  let complete = false;
  try {
    if (declared > o.limit) throw new PayloadTooLargeError(o.limit);
    if (declared >= 0) read.reserve(declared);
    // Bytes already reserved by the declared length; a chunked body reserves as it arrives.
    const covered = declared >= 0 ? declared : 0;
    const parts: Uint8Array[] = [];
    let size = 0;
    for (
      let chunk = await read.next();
      chunk !== undefined;
      chunk = size === declared ? await read.end() : await read.next()
    ) {
      size += chunk.byteLength;
      if (size > o.limit) throw new PayloadTooLargeError(o.limit);
      if (size > covered) read.reserve(Math.min(chunk.byteLength, size - covered));
      parts.push(chunk);
    }
    complete = true;
    return concatChunks(parts, size);
  } finally {
    read.finish(complete);
  }
}

/**
 * After an answer given without reading the body (401, 404, 415, a global 429…): reads and drops
 * what the client still sends, under the body deadlines, then lets the connection close — rather
 * than Deno's deadline-less discard. A no-op when the body was read or there is none.
 */
export function drainUnread(req: Request, o: BodyGuardOptions): void {
  if (req.bodyUsed || req.body === null || req.body.locked) return;
  new BodyRead(o, req.body).finish(false);
}

/** The pieces of a body as one buffer (the piece itself when there is one). */
function concatChunks(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
