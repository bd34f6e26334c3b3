/**
 * One try against one upstream instance, as an object: the chosen instance and its call, the
 * attempt's deadlines, and — once it ends — its {@linkcode Settlement}. Its steps are named:
 *
 * 1. {@linkcode Attempt.awaitHeaders}: `fetch` with the client's abort tied in, within the
 *    connect + first-byte budget;
 * 2. {@linkcode Attempt.commitWhole} (a small JSON answer with a declared length, read in one
 *    go) or {@linkcode Attempt.commitStream} (the first chunk is read before committing, so an
 *    upstream that dies before producing anything is a retryable failure, not a broken stream);
 * 3. settle: exactly once — on a failure before commit, at once; on a committed body, when it
 *    ends, errors or the client cancels it. The instance's counters are released there.
 *
 * The attempt is its own deadline watch, abort listener, body observer and member of its instance's
 * {@linkcode WaitingList} (methods and fields, not closures), so a try allocates this one object,
 * its three list links and what `fetch` and the body need. Upstream trouble never throws: a failure before commit comes
 * back as an {@linkcode AttemptFailure}.
 *
 * Until its first byte the attempt waits in its instance's list: if the instance is ejected
 * meanwhile (probe, breaker, outlier detection), the attempt gives up at once as an `ejected`
 * failure — retryable, not counted against the instance a second time — and the request fails
 * over. Once a byte is in, nothing but the client, the deadlines and the shutdown cut it short.
 *
 * @module
 */

import type { TimeoutConfig } from "../config/types.ts";
import type { HeaderList } from "../header_list.ts";
import type { Decision, UpstreamCall } from "../types.ts";
import { type ChunkReader, chunkReader } from "./chunk_reader.ts";
import type { Watch } from "./deadlines.ts";
import { Link } from "../linked_list.ts";
import { AbortFanout, type AbortMember } from "./abort_fanout.ts";
import { responseHeaders } from "./headers.ts";
import { recordOutcome } from "./outcome.ts";
import type { Reply } from "./reply.ts";
import type { AttemptFailure, DispatchDeps, FailureKind, Settlement } from "./request.ts";
import type { Upstream } from "./runtime_types.ts";
import { type Usage, usageFromTail } from "./usage.ts";
import { type BodyEnd, type BodyObserver, FilterFailure } from "./tracked_body.ts";
import { UpstreamError } from "../errors.ts";
import { relayBody, wholeAnswer } from "./answer_body.ts";
import {
  clientErrorResponse,
  endsWithDone,
  errorSnippet,
  parseRetryAfter,
  type ReadToEnd,
  readToEnd,
  reportedError,
} from "./upstream_body.ts";
import type { Waiter } from "./waiting.ts";

/** What an attempt needs from the request it belongs to (an `Exchange`). */
export interface AttemptOwner {
  readonly deps: DispatchDeps;
  readonly timeouts: TimeoutConfig;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
  /** Aborts when the gateway cuts what is left at its shutdown deadline. */
  readonly shutdown: AbortSignal | undefined;
  /** Adds the gateway's own headers to an answer (request id, `X-RateLimit-*`). */
  decorate(headers: HeaderList): void;
  /** The attempt settled; its outcome is already recorded on the instance. */
  settled(attempt: Attempt): void;
}

// A JSON document (`application/json`, `…+json`), not a stream of them (`application/x-ndjson`).
const JSON_TYPE = /^\s*application\/(?:[^;\s]*\+)?json\s*(?:;|$)/i;
const SSE_TYPE = /^\s*text\/event-stream\s*(?:;|$)/i;
const HTML_TYPE = /^\s*text\/html\s*(?:;|$)/i;
const ONCE: AddEventListenerOptions = Object.freeze({ once: true });
const NO_TAIL: readonly Uint8Array[] = Object.freeze([]);

/** Statuses whose responses have no body (`fetch` gives `null`; a `Response` refuses one). */
const NULL_BODY_STATUS: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** Largest declared JSON answer read whole instead of streamed (embeddings of big batches fit). */
const WHOLE_BODY_MAX = 8 * 1024 * 1024;

/**
 * Largest JSON answer read whole to be rewritten (an adapter's `mapJson`, a client dialect's
 * translation) when its length was not declared or is above {@linkcode WHOLE_BODY_MAX}: past it the
 * attempt fails instead of holding an endless body (and parsing it would stall the event loop).
 */
const REWRITE_BODY_MAX = 32 * 1024 * 1024;

/** A committed answer carrying the gateway's response headers. */
function committedResponse(body: BodyInit | null, status: number, headers: HeaderList): Response {
  return new Response(body, { status, headers: headers.toInit() });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One try against one upstream (see the module documentation for its steps). */
export class Attempt implements Settlement, Watch, BodyObserver, AbortMember, Waiter {
  /** How it ended (meaningful once {@linkcode Attempt.settled}). */
  outcome: Settlement["outcome"] = "abort";
  kind: FailureKind | undefined = undefined;
  /** The upstream's status, once its headers arrived. */
  status: number | undefined = undefined;
  /** Upstream time to first body byte (ms). */
  ttfbMs: number | undefined = undefined;
  /** The last chunks of the body, for usage accounting. */
  tail: readonly Uint8Array[] = NO_TAIL;
  #usage: Usage | undefined;
  retryAfterMs: number | undefined = undefined;
  /** The outcome is recorded (in-flight released, breaker and health told). */
  settled = false;
  /** The answer went to the client (set by the request once it returns it). */
  committed = false;
  /** What a cluster-wide token limit of the instance took (`ScopeDecider.instance`), to correct. */
  grant: Decision | undefined = undefined;
  /** When the next deadline passes, on the sweep's clock (the {@linkcode Watch} contract). */
  due: number;
  readonly dueLink: Link<Watch> = new Link(this);
  /** When the attempt started (request clock), for `ttfbMs` and the {@linkcode Waiter} contract. */
  readonly startedAt: number;
  /** {@linkcode Waiter}: its place in its instance's waiting list. */
  readonly waitLink: Link<Waiter> = new Link(this);
  /** {@linkcode AbortMember}: its place among the listeners of the gateway's shutdown. */
  readonly abortLink: Link<AbortMember> = new Link(this);

  readonly #owner: AttemptOwner;
  /** What the adapter asks to send; let go once a stream is committed (it is never sent again). */
  #call: UpstreamCall | undefined;
  readonly #ctrl = new AbortController();
  /** The upstream body being read, once committed to read it chunk by chunk. */
  #reader: ChunkReader | undefined;
  readonly #totalAt: number;
  #phase: "first-byte" | "idle" = "first-byte";
  #timedOut: "first-byte" | "idle" | "total" | undefined = undefined;
  /** The committed body is SSE: a client leaving after `data: [DONE]` got the whole answer. */
  #sse = false;
  /** The committed body is relayed in the upstream's own stream format (no translation). */
  #own: "sse" | "ndjson" | undefined = undefined;
  /** Why the committed body failed (a mapped stream's error event says it after the mapper). */
  #bodyError: unknown = undefined;
  /** Why its instance was ejected while it waited (it then gave up). */
  #ejected: string | undefined = undefined;
  /**
   * A read of the body waits for the upstream. Off once a committed stream's chunk is handed on,
   * until the client takes it: a silence then is the client's (its socket is full), not the
   * upstream's, which backpressure has paused.
   */
  #pulling = true;
  /** The client stopped taking the answer for the idle timeout: cut as its doing, not the instance's. */
  #clientStalled = false;

  /**
   * @param owner The request this attempt serves.
   * @param upstream The instance, already admitted by its limiter and breaker; its in-flight
   * count is taken by the caller and released when the attempt settles.
   * @param call What the adapter asks to send.
   * @param stripUsage Remove the usage-only event the gateway asked for from a successful stream.
   * @param reply Rewrites a successful answer (a client dialect's translation, the model's public
   * name); absent, bytes pass as they came.
   */
  constructor(
    owner: AttemptOwner,
    readonly upstream: Upstream,
    call: UpstreamCall,
    readonly stripUsage: boolean,
    readonly reply?: Reply,
  ) {
    this.#owner = owner;
    this.#call = call;
    this.startedAt = owner.deps.clock();
    // Headers must arrive within connect + first-byte (fetch does not expose the connect phase);
    // then the body may pause at most `idle` between chunks; `total` bounds the whole attempt.
    const t = owner.timeouts;
    const t0 = owner.deps.deadlines.now();
    this.#totalAt = t.totalMs > 0 ? t0 + t.totalMs : Infinity;
    this.due = Math.min(this.#totalAt, t.firstByteMs > 0 ? t0 + t.connectMs + t.firstByteMs : Infinity);
  }

  /** The tokens the body's tail reports, read once (after settlement; the tail is final then). */
  get usage(): Usage {
    return this.#usage ??= usageFromTail(this.tail);
  }

  /** Runs the steps: headers, then a whole answer or a stream. Never throws for upstream trouble. */
  async run(): Promise<Response | AttemptFailure> {
    const res = await this.awaitHeaders();
    if (!(res instanceof Response)) return res;
    this.status = res.status;
    if (res.status >= 500 || res.status === 429) return await this.#refused(res);
    const headers = responseHeaders(res.headers);
    this.#owner.decorate(headers);
    if (res.status >= 400) {
      // The client's own mistake (4xx): passed on, in OpenAI's error shape whatever the backend's.
      const response = await clientErrorResponse(res, headers);
      this.#settle("ignored");
      return response;
    }
    const contentType = headers.get("content-type") ?? "";
    const json = JSON_TYPE.test(contentType);
    const unexpected = res.ok ? this.#unexpectedShape(contentType, json) : undefined;
    if (unexpected !== undefined) {
      res.body?.cancel().catch(() => {});
      return this.#fail("body", unexpected);
    }
    // Checked before `res.body` is touched: the getter builds a JS stream that `bytes()` would
    // then read through, instead of Deno's one native read.
    if (
      json && Number(res.headers.get("content-length") ?? NaN) <= WHOLE_BODY_MAX &&
      !NULL_BODY_STATUS.has(res.status)
    ) {
      return await this.commitWhole(res, headers);
    }
    if (!res.body) {
      this.#settle(res.ok ? "success" : "ignored");
      return committedResponse(null, res.status, headers);
    }
    return await this.commitStream(res, headers, contentType, json);
  }

  /** Step 1: sends the request; resolves with the response once its headers are in. */
  async awaitHeaders(): Promise<Response | AttemptFailure> {
    const { deps, signal, shutdown } = this.#owner;
    signal.addEventListener("abort", this, ONCE);
    if (shutdown) AbortFanout.of(shutdown).add(this);
    // A client that left (or a gateway that cut everything) before this attempt began is not
    // worth a request upstream.
    if (shutdown?.aborted) this.#ctrl.abort(shutdown.reason);
    else if (signal.aborted) this.#ctrl.abort(signal.reason);
    deps.deadlines.add(this);
    this.upstream.waiting.add(this);
    const call = this.#call!;
    let res: Response;
    try {
      res = await deps.fetch(call.url, {
        method: call.method,
        headers: call.headers.toInit(),
        body: call.body,
        signal: this.#ctrl.signal,
      });
    } catch (error) {
      return this.#classify(error);
    }
    // Headers arrived: from now on the idle gap is watched, re-armed on every chunk.
    this.#phase = "idle";
    const idleMs = this.#owner.timeouts.idleMs;
    this.due = idleMs > 0 ? Math.min(this.#totalAt, deps.deadlines.now() + idleMs) : this.#totalAt;
    deps.deadlines.moved(this);
    return res;
  }

  /**
   * Step 2a: a small JSON answer with a declared length is no stream: read in one go (one native
   * read instead of a JS stream per chunk), rewritten by the adapter if it must be, committed.
   */
  async commitWhole(res: Response, headers: HeaderList): Promise<Response | AttemptFailure> {
    let bytes: Uint8Array;
    try {
      bytes = await res.bytes();
    } catch (error) {
      return this.#bodyFailure(error);
    }
    this.#firstByte();
    return this.#whole(bytes, headers);
  }

  /**
   * Step 2b: reads the first chunk, then commits a body that relays the rest as it arrives (and
   * settles the attempt when it ends). A successful JSON answer that is rewritten as a whole (the
   * adapter's `mapJson`, a {@linkcode Reply} that reads `whole`) is read whole instead.
   */
  async commitStream(
    res: Response,
    headers: HeaderList,
    contentType: string,
    json: boolean,
  ): Promise<Response | AttemptFailure> {
    const reader = this.#reader = chunkReader(res.body!);
    let first: Uint8Array | undefined;
    try {
      first = await reader.read();
    } catch (error) {
      reader.cancel().catch(() => {});
      return this.#bodyFailure(error);
    }
    this.#firstByte();
    if (first === undefined) {
      this.#settle(res.ok ? "success" : "ignored");
      return committedResponse(null, res.status, headers);
    }
    const reply = res.ok ? this.reply : undefined;
    const call = this.#call!;
    if (res.ok && (call.mapJson || reply?.whole) && json) {
      return await this.#readRest(reader, first, headers);
    }
    const mapped = res.ok && call.mapStream !== undefined;
    const streamType = mapped ? call.streamContentType ?? "text/event-stream" : contentType;
    const rewrite = reply?.stream(streamType);
    this.#sse = mapped || contentType.startsWith("text/event-stream");
    const ndjson = contentType.startsWith("application/x-ndjson");
    // The client gets the upstream's own events (a rename keeps them): an error event among them
    // is one it saw. A translation reports its own (`FilterFailure`).
    if (!mapped && (rewrite === undefined || reply === this.upstream.rename)) {
      this.#own = this.#sse ? "sse" : ndjson ? "ndjson" : undefined;
    }
    const body = relayBody(reader, this, {
      first,
      mapStream: mapped ? call.mapStream : undefined,
      rewrite,
      strip: res.ok && this.stripUsage && this.#sse, // an SSE stream's usage event: nothing to find in another format
      sse: this.#sse,
      ndjson,
      failure: () => this.#bodyError,
    });
    if (rewrite && reply!.streamType) headers.set("content-type", reply!.streamType);
    else if (mapped) headers.set("content-type", streamType);
    this.#call = undefined; // its body and headers: an open stream keeps neither
    this.chunk(); // the first chunk waits for the client
    return committedResponse(body, res.status, headers);
  }

  /** {@linkcode Watch}: a deadline passed — abort the upstream and remember which one. */
  expire(): void {
    const total = this.due === this.#totalAt;
    if (!this.#pulling) {
      // Nothing was being asked of the upstream: the client is not reading (its socket is full).
      this.#clientStalled = true;
      const why = total ? "total timeout" : `${this.#owner.timeouts.idleMs / 1000} s`;
      return this.#stop(new DOMException(`the client took nothing (${why})`, "TimeoutError"));
    }
    this.#timedOut = total ? "total" : this.#phase;
    this.#stop(new DOMException(`upstream ${this.#timedOut} timeout`, "TimeoutError"));
  }

  /**
   * Aborts the upstream, and lets go of its body: in about one case in ten Deno's abort leaves a
   * pending body read unsettled (seen with an upstream silent after its first chunk), and the
   * client then waited for ever. The cancel settles that read; {@linkcode Attempt.stopped} says
   * it was no end.
   */
  #stop(reason: unknown): void {
    this.#ctrl.abort(reason);
    this.#reader?.cancel(reason).catch(() => {});
  }

  /** {@linkcode BodyObserver}: why the gateway stopped the upstream (deadline, client, shutdown), if it did. */
  stopped(): unknown {
    return this.#ctrl.signal.aborted ? this.#ctrl.signal.reason : undefined;
  }

  /**
   * {@linkcode Waiter}: its instance was ejected before a byte came; abort the upstream so the
   * request fails over (unless the attempt is already ending for another reason, which then stands).
   */
  ejected(reason: string): void {
    if (this.#ctrl.signal.aborted) return;
    this.#ejected = reason;
    this.#ctrl.abort(new DOMException(`instance ejected: ${reason}`, "AbortError"));
  }

  /** The `abort` event of the client's signal or the gateway's shutdown: abort the upstream too. */
  handleEvent(event: Event): void {
    this.#stop((event.target as AbortSignal).reason);
  }

  /** {@linkcode BodyObserver}: a chunk arrived — the idle deadline moves later; now the client's. */
  chunk(): void {
    this.#pulling = false;
    this.#rearm();
  }

  /** {@linkcode BodyObserver}: the client took the last chunk — the idle deadline is the upstream's again. */
  reading(): void {
    this.#pulling = true;
    this.#rearm();
  }

  /** The idle deadline from now (a move later: a field write, the sweep needs no call). */
  #rearm(): void {
    const idleMs = this.#owner.timeouts.idleMs;
    if (idleMs > 0) this.due = Math.min(this.#totalAt, this.#owner.deps.deadlines.now() + idleMs);
  }

  /** {@linkcode BodyObserver}: the client cancelled the body. */
  cancelled(): void {
    this.#ctrl.abort(new DOMException("client closed the connection", "AbortError"));
  }

  /** {@linkcode BodyObserver}: the committed body ended; step 3 for a stream. */
  ended(end: BodyEnd, tail: readonly Uint8Array[]): void {
    if (end.outcome === "failure") this.#bodyError = end.error;
    // A client that hangs up right after `data: [DONE]` got the whole answer (unless a
    // translation told it the answer failed).
    if (
      end.outcome === "success" ||
      (this.#sse && endsWithDone(tail) && !(end.outcome === "failure" && end.error instanceof FilterFailure))
    ) {
      // A stream relayed as it came may end well and still carry the upstream's error event.
      const reported = this.#own && this.status! < 300 ? reportedError(tail, this.#own === "sse") : undefined;
      if (reported === undefined) {
        return this.#settle(this.status! < 300 ? "success" : "ignored", undefined, tail);
      }
      this.#bodyError = new UpstreamError(reported, "upstream_stream_error");
      this.#settle("failure", "body", tail);
    } else if (this.#owner.shutdown?.aborted) {
      this.#settle("abort", "shutdown", tail);
    } else if (end.outcome === "abort" || this.#owner.signal.aborted || this.#clientStalled) {
      this.#settle("abort", "abort", tail);
    } else {
      this.#settle("failure", this.#timedOut ? "timeout" : "body", tail);
    }
  }

  /** Step 3: records the end on the instance, exactly once, and tells the request. */
  #settle(outcome: Settlement["outcome"], kind?: FailureKind, tail: readonly Uint8Array[] = NO_TAIL): void {
    if (this.settled) return;
    this.settled = true;
    this.outcome = outcome;
    this.kind = kind;
    this.tail = tail;
    const { deps, signal } = this.#owner;
    deps.deadlines.delete(this);
    this.upstream.waiting.remove(this);
    signal.removeEventListener("abort", this);
    this.abortLink.leave();
    recordOutcome(this.upstream, this, deps.clock(), deps.observer);
    this.#owner.settled(this);
  }

  /** The first body byte is in: the time is measured, and the attempt no longer waits. */
  #firstByte(): void {
    const now = this.#owner.deps.clock();
    this.ttfbMs = now - this.startedAt;
    this.upstream.waiting.served(this, now, this.status! < 300 ? this.ttfbMs : undefined);
  }

  /**
   * A failure before commit: settled at once, returned as a value. The instance is not blamed
   * for an abort, the shutdown, or an ejection (it is out already).
   */
  #fail(kind: FailureKind, message: string): AttemptFailure {
    this.#settle(kind === "abort" || kind === "shutdown" || kind === "ejected" ? "abort" : "failure", kind);
    return { type: "failed", kind, message, status: this.status, retryAfterMs: this.retryAfterMs };
  }

  /**
   * Why `fetch` or a body read threw: shutdown, the client left, the instance was ejected, a
   * deadline passed, or the network.
   */
  #classify(error: unknown): AttemptFailure {
    if (this.#owner.shutdown?.aborted) return this.#fail("shutdown", "the gateway is shutting down");
    if (this.#owner.signal.aborted) return this.#fail("abort", "client closed the connection");
    if (this.#ejected !== undefined) {
      return this.#fail("ejected", `the instance was ejected while the request waited (${this.#ejected})`);
    }
    if (this.#timedOut) return this.#fail("timeout", `upstream ${this.#timedOut} timeout`);
    return this.#fail("connect", messageOf(error));
  }

  #bodyFailure(error: unknown): AttemptFailure {
    if (this.#owner.shutdown?.aborted || this.#owner.signal.aborted || this.#timedOut || this.#ejected) {
      return this.#classify(error);
    }
    return this.#fail("body", `upstream body failed: ${messageOf(error)}`);
  }

  /**
   * Why a successful answer cannot become what the client asked for, when something must translate
   * it and the answer is not in the format it reads: the adapter's `mapJson` reads one JSON
   * document, its `mapStream` a stream (Ollama's NDJSON); else a reply that translates only the
   * shape the client asked for (a client dialect) reads a whole JSON answer or an SSE stream.
   * Relayed untranslated, such an answer would reach an OpenAI client as a 200 it cannot read (an
   * HTML page, Ollama's own NDJSON or JSON): the attempt fails instead, before any byte is sent.
   * Without a translation (the `openai` adapter, no dialect) any answer passes as it came.
   */
  #unexpectedShape(contentType: string, json: boolean): string | undefined {
    const call = this.#call!;
    const shape = call.mapStream !== undefined
      ? "stream"
      : call.mapJson !== undefined
      ? "whole"
      : this.reply?.shape;
    if (shape === undefined) return undefined;
    // Behind an adapter's stream mapper any answer but JSON is a stream (its mapper judges the
    // lines), except an HTML page: a proxy's or a server's error page, whatever its status.
    const streamed = call.mapStream !== undefined
      ? !json && !HTML_TYPE.test(contentType)
      : SSE_TYPE.test(contentType);
    if (shape === "stream" ? streamed : json) return undefined;
    const what = contentType.split(";")[0].trim() || "an answer without a content type";
    return `upstream answered ${what} to a request for ${shape === "stream" ? "a stream" : "a whole answer"}`;
  }

  /** A 5xx or 429: a failure another instance may make up for (parked when it says how long). */
  async #refused(res: Response): Promise<AttemptFailure> {
    this.retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), this.#owner.deps.clock());
    const snippet = await errorSnippet(res);
    return this.#fail("status", `upstream answered ${res.status}${snippet ? `: ${snippet}` : ""}`);
  }

  /**
   * Reads the rest of a JSON answer whose length was not declared (or is above
   * {@linkcode WHOLE_BODY_MAX}), then commits it whole; each chunk moves the idle deadline, as in a
   * relay.
   */
  async #readRest(
    reader: ChunkReader,
    first: Uint8Array,
    headers: HeaderList,
  ): Promise<Response | AttemptFailure> {
    let read: ReadToEnd;
    try {
      // The gateway reads on by itself: each chunk moves the idle deadline, which stays the upstream's.
      read = await readToEnd(reader, REWRITE_BODY_MAX, { chunk: () => this.#rearm() }, first);
    } catch (error) {
      return this.#bodyFailure(error);
    }
    if (this.#ctrl.signal.aborted) return this.#bodyFailure(this.#ctrl.signal.reason); // cut, not ended
    if (read.complete) return this.#whole(read.bytes, headers);
    reader.cancel().catch(() => {});
    return this.#fail("body", `upstream answer is over ${REWRITE_BODY_MAX >> 20} MiB, too large to rewrite`);
  }

  /**
   * Commits a whole JSON answer, rewritten by the adapter's `mapJson` when it has one, then by
   * the attempt's {@linkcode Reply}.
   */
  #whole(bytes: Uint8Array, headers: HeaderList): Response | AttemptFailure {
    const status = this.status!;
    let out = bytes;
    if (status < 300) {
      try {
        out = wholeAnswer(bytes, this.#call!, this.reply, headers);
      } catch (error) {
        return this.#fail("body", `upstream answered with an unreadable body: ${messageOf(error)}`);
      }
    }
    this.#settle(status < 300 ? "success" : "ignored", undefined, [
      out.subarray(Math.max(0, out.byteLength - 1024)),
    ]);
    return committedResponse(out as Uint8Array<ArrayBuffer>, status, headers);
  }
}
