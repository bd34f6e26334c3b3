/**
 * Test support: manual time (one clock for the gateway, its deadline sweep and the fake
 * upstreams) and scripted upstreams behind an injected `fetch`. Everything runs in process on
 * promise chains, so a test decides exactly when time moves and what each upstream does.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TimerApi } from "./deadlines.ts";

/** A clock and timers that move only when told to. */
export class ManualTime implements TimerApi {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  /** The current time in ms (usable as the gateway's `clock`). */
  readonly now = (): number => this.#now;

  /** {@linkcode TimerApi}: runs `fn` once `advance` has moved time `ms` further. */
  readonly setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  };

  readonly clearTimeout = (id: unknown): void => void this.#timers.delete(id as number);

  /** Resolves once time has moved `ms` further. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order (each at its own instant), and lets
   * the gateway run what became ready before and after each.
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle(); // what was started just before (a body read) registers its timers first
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= until && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
      await settle();
    }
    this.#now = until;
    await settle();
  }
}

/**
 * Lets everything that can run, run: the gateway, its fake upstreams and the streams between
 * them are all in-process promise chains, so a few macrotask turns drain them.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
}

/**
 * One scripted upstream answer. `body` parts: a string is a chunk, a number a gap of that many
 * ms (manual time), `"hang"` waits until the request is aborted, `"reset"` breaks the body.
 * `json` answers with a declared length (the gateway reads it whole).
 */
export interface Reply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: readonly (string | number | "hang" | "reset")[];
  readonly json?: unknown;
}

/** What an upstream does with one call: answer, never answer (`hang`), or refuse (`reset`). */
export type Step = Reply | "hang" | "reset";

/** One call the gateway made. */
export interface Call {
  /** The instance's label (its key in the script). */
  readonly instance: string;
  readonly url: string;
  readonly body: string;
  readonly signal: AbortSignal;
}

const ENC = new TextEncoder();

/**
 * Upstreams by label (`a` is `http://127.0.0.1:9001`, `b` …9002, …), each with a queue of steps
 * (the last one repeats), served by {@linkcode ScriptedUpstreams.fetch}.
 */
export class ScriptedUpstreams {
  readonly calls: Call[] = [];
  /** Bodies handed out and not yet ended, errored or cancelled. */
  openBodies = 0;
  readonly #script: Map<string, Step[]>;

  constructor(readonly time: ManualTime, script: Readonly<Record<string, readonly Step[]>>) {
    this.#script = new Map(Object.entries(script).map(([k, v]) => [k, [...v]]));
  }

  /** The base URL of instance `label`. */
  static url(label: string): string {
    return `http://127.0.0.1:${9001 + label.charCodeAt(0) - 97}`;
  }

  /** Labels of the instances called, in order. */
  get tried(): string[] {
    return this.calls.map((c) => c.instance);
  }

  /** The injected `fetch`. */
  readonly fetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const instance = String.fromCharCode(97 + Number(new URL(url).port) - 9001);
    const queue = this.#script.get(instance);
    assert.ok(queue && queue.length > 0, `no script for instance ${instance}`);
    const step = queue.length > 1 ? queue.shift()! : queue[0];
    const signal = init.signal!;
    const body = init.body instanceof Uint8Array ? new TextDecoder().decode(init.body) : String(init.body);
    this.calls.push({ instance, url, body, signal });
    // Like a real fetch: an aborted signal rejects at once, whatever the upstream would do.
    if (signal.aborted) return Promise.reject(signal.reason);
    if (step === "reset") return Promise.reject(new TypeError("error sending request: connection reset"));
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => {});
    if (step === "hang") return aborted;
    return Promise.resolve(this.#respond(step, signal));
  };

  #respond(reply: Reply, signal: AbortSignal): Response {
    const status = reply.status ?? 200;
    if (reply.json !== undefined || reply.body === undefined) {
      const bytes = ENC.encode(JSON.stringify(reply.json ?? {}));
      const headers = { "content-type": "application/json", "content-length": String(bytes.byteLength) };
      return new Response(bytes, { status, headers: { ...headers, ...reply.headers } });
    }
    const headers = { "content-type": "text/event-stream", ...reply.headers };
    return new Response(this.#stream(reply.body, signal), { status, headers });
  }

  /** A byte stream (like a real `fetch` body) playing `parts` on manual time. */
  #stream(parts: readonly (string | number | "hang" | "reset")[], signal: AbortSignal): ReadableStream {
    let i = 0;
    let open = true;
    this.openBodies++;
    const close = () => void (open && (open = false, this.openBodies--));
    let ctl: ReadableByteStreamController;
    // A real fetch body errors with the abort reason when its request is aborted.
    signal.addEventListener("abort", () => {
      if (open) ctl.error(signal.reason);
      close();
    }, { once: true });
    return new ReadableStream({
      type: "bytes",
      start: (c) => void (ctl = c),
      pull: async (c) => {
        for (; open; i++) {
          const part = parts[i];
          if (part === undefined) {
            close();
            c.close();
            c.byobRequest?.respond(0);
            return;
          }
          if (typeof part === "number") await this.time.sleep(part);
          else if (part === "hang") await new Promise(() => {});
          else if (part === "reset") {
            close();
            return c.error(new TypeError("error reading a body from connection: connection reset"));
          } else {
            i++;
            return c.enqueue(ENC.encode(part));
          }
        }
      },
      cancel: close,
    });
  }
}
