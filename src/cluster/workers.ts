/**
 * `server.workers: N` — N gateway isolates (Web Workers started by `main.ts`) listening on one
 * port with `SO_REUSEPORT`, so the kernel spreads connections over the cores, and one supervisor
 * (the main thread) that keeps the host looking like one gateway:
 *
 * - **one log stream**: workers send their log chunks here; only the supervisor writes stdout;
 * - **one `/metrics`**: whichever worker is scraped asks the supervisor, which collects every
 *   serving worker's metrics and answers with their aggregate (`scrapes.ts`, with a deadline);
 * - **one reload**: the supervisor loads and validates the config once (SIGHUP, file change, or
 *   an admin change made on any worker) and hands the same config to every worker;
 * - **one drain**: SIGTERM drains every worker with the same `drain-delay` and deadline; the
 *   process exits once all have stopped, or at the deadline (plus a margin) with those left ended;
 * - **supervision**: a worker whose isolate fails (an uncaught error, or a failure reported as
 *   it starts again) is logged and replaced by a fresh one on the config in force, after a
 *   backoff (`restart.ts`); the other workers and their requests are not touched;
 * - **one view of the instances** (without Redis; with it, each worker is a replica of its own):
 *   breaker and health changes are relayed to the other workers, breaker ownership (so that
 *   half-open trials run once for the host) is kept in the supervisor's table, and every
 *   `state.share-interval` each worker's in-flight counts and latency are exchanged for the
 *   others' (`load_share.ts`).
 *
 * The message types are the protocol between the supervisor (`worker_supervisor.ts`) and
 * {@linkcode connectSupervisor}.
 *
 * @module
 */

import type { Config } from "../config/types.ts";
import type { MetricsSnapshot } from "../observe/metrics.ts";
import type { GovernanceBus } from "./governance.ts";
import type { LoadReport, PeerReport } from "./load_share.ts";

/** What the supervisor tells a worker. */
export type ToWorker =
  | {
    readonly t: "init";
    readonly index: number;
    readonly count: number;
    readonly port: number;
    /** The config in force, for a worker started in place of a failed one (others load the file). */
    readonly config?: Config;
  }
  | { readonly t: "reload"; readonly config: Config }
  | { readonly t: "drain"; readonly signal: string }
  | { readonly t: "collect"; readonly id: number }
  | { readonly t: "metrics"; readonly id: number; readonly text: string }
  | { readonly t: "peers"; readonly id: number; readonly reports: readonly PeerReport[] }
  | { readonly t: "bus"; readonly message: string }
  | { readonly t: "claimed"; readonly id: number; readonly holder: string | null }
  /** The heartbeat: answer with `pong` (any message counts; this one is sure to come). */
  | { readonly t: "ping" };

/** What a worker tells the supervisor. */
export type FromWorker =
  | { readonly t: "log"; readonly chunk: Uint8Array }
  | { readonly t: "listening"; readonly address: string }
  | { readonly t: "admin-changed" }
  | { readonly t: "metrics?"; readonly id: number }
  | { readonly t: "collected"; readonly id: number; readonly data: MetricsSnapshot }
  | { readonly t: "stopped" }
  | { readonly t: "failed"; readonly error: string }
  | { readonly t: "load"; readonly id: number; readonly reports: readonly LoadReport[] }
  | { readonly t: "bus"; readonly message: string }
  | {
    readonly t: "claim";
    readonly id: number;
    readonly key: string;
    readonly owner: string;
    readonly ttlMs: number;
  }
  | { readonly t: "renew"; readonly key: string; readonly owner: string; readonly ttlMs: number }
  | { readonly t: "release"; readonly key: string }
  | { readonly t: "pong" };

/** The part of a `Worker` (or of a worker's `self`) that the protocol uses. */
export interface MessagePortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

/** A worker as the supervisor holds it: a `Worker` of `main.ts`, or a fake in tests. */
export interface WorkerHandle extends MessagePortLike {
  /** An uncaught error ended the worker; `preventDefault()` keeps it from ending the process. */
  onerror: ((event: ErrorEvent) => void) | null;
  terminate(): void;
}

/** A worker's place among the workers, from the supervisor. */
export interface WorkerPlace {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
  /** The port to share. */
  readonly port: number;
  /** The config in force, for a worker started in place of a failed one; others load the file. */
  readonly config?: Config;
}

/** A worker's side of the protocol. */
export interface SupervisorLink {
  /** This worker's place, the worker count and the port to share. */
  readonly init: Promise<WorkerPlace>;
  /** Sends a log chunk to the supervisor (the buffer is transferred). */
  write(chunk: Uint8Array): void;
  listening(address: string): void;
  adminChanged(): void;
  stopped(): void;
  failed(error: string): void;
  /** The host-wide metrics text (every worker's, aggregated). */
  metrics(): Promise<string>;
  /** Sends this worker's load report; answers the other workers' (`load_share.ts`). */
  exchangeLoad(reports: readonly LoadReport[]): Promise<readonly PeerReport[]>;
  /** Breakers and health shared with the other workers (`governance.ts`). */
  readonly bus: GovernanceBus;
  /** Registers what the worker does on reload, drain and collect (a reload or drain sent earlier runs now). */
  handle(handlers: {
    reload(config: Config): void;
    drain(signal: string): void;
    collect(): Promise<MetricsSnapshot>;
  }): void;
}

/** Connects a worker (its global `self`) to the supervisor. */
export function connectSupervisor(port: MessagePortLike): SupervisorLink {
  const init = Promise.withResolvers<WorkerPlace>();
  const pending = new Map<number, (answer: never) => void>();
  const busListeners: Array<(message: string) => void> = [];
  let nextId = 1;
  /** Posts `m` with a fresh id; resolves with the supervisor's answer to that id. */
  const ask = <T>(m: (id: number) => FromWorker): Promise<T> => {
    const id = nextId++;
    const { promise, resolve } = Promise.withResolvers<T>();
    pending.set(id, resolve as (answer: never) => void);
    post(m(id));
    return promise;
  };
  const answer = (id: number, value: unknown) => {
    const resolve = pending.get(id);
    pending.delete(id);
    resolve?.(value as never);
  };
  let handlers: Parameters<SupervisorLink["handle"]>[0] | undefined;
  /** A reload or drain that came while the worker was starting: applied once it can. */
  const early: { config?: Config; signal?: string } = {};
  const post = (m: FromWorker, transfer?: Transferable[]) => port.postMessage(m, transfer);
  port.onmessage = (event: MessageEvent) => {
    const m = event.data as ToWorker;
    switch (m.t) {
      case "init":
        return init.resolve({ index: m.index, count: m.count, port: m.port, config: m.config });
      case "reload":
        return handlers ? handlers.reload(m.config) : void (early.config = m.config);
      case "drain":
        return handlers ? handlers.drain(m.signal) : void (early.signal = m.signal);
      case "collect":
        // A collector that fails leaves this worker out of the scrape (its deadline covers the
        // missing answer): a rejection here would reach the supervisor as the worker's failure.
        return void handlers?.collect().then((data) => post({ t: "collected", id: m.id, data }), () => {});
      case "metrics":
        return answer(m.id, m.text);
      case "peers":
        return answer(m.id, m.reports);
      case "claimed":
        return answer(m.id, m.holder);
      case "bus":
        return busListeners.forEach((l) => l(m.message));
      case "ping":
        return post({ t: "pong" });
    }
  };
  return {
    init: init.promise,
    write(chunk) {
      // A copy: the writer may reuse its buffer, and a transferred buffer is gone from this side.
      const own = chunk.slice();
      post({ t: "log", chunk: own }, [own.buffer]);
    },
    listening: (address) => post({ t: "listening", address }),
    adminChanged: () => post({ t: "admin-changed" }),
    stopped: () => post({ t: "stopped" }),
    failed: (error) => post({ t: "failed", error }),
    // Ids are local to this worker; the supervisor keys scrapes by its own ids.
    metrics: () => ask<string>((id) => ({ t: "metrics?", id })),
    exchangeLoad: (reports) => ask<readonly PeerReport[]>((id) => ({ t: "load", id, reports })),
    bus: {
      publish: (message) => post({ t: "bus", message }),
      subscribe: (listener) => void busListeners.push(listener),
      claim: (key, owner, ttlMs) => ask<string | null>((id) => ({ t: "claim", id, key, owner, ttlMs })),
      renew: (key, owner, ttlMs) => post({ t: "renew", key, owner, ttlMs }),
      release: (key) => post({ t: "release", key }),
    },
    handle(h) {
      handlers = h;
      if (early.config !== undefined) h.reload(early.config);
      if (early.signal !== undefined) h.drain(early.signal);
    },
  };
}
