/**
 * `server.workers: N` — N gateway isolates (Web Workers started by `main.ts`) listening on one
 * port with `SO_REUSEPORT`, so the kernel spreads connections over the cores, and one supervisor
 * (the main thread) that keeps the host looking like one gateway:
 *
 * - **one log stream**: workers send their log chunks here; only the supervisor writes stdout;
 * - **one `/metrics`**: whichever worker is scraped asks the supervisor, which collects every
 *   worker's metrics and answers with their aggregate (`aggregateMetrics`);
 * - **one reload**: the supervisor loads and validates the config once (SIGHUP, file change, or
 *   an admin change made on any worker) and hands the same config to every worker;
 * - **one drain**: SIGTERM drains every worker with the same `drain-delay` and deadline; the
 *   process exits once all have stopped;
 * - **one view of the instances** (without Redis; with it, each worker is a replica of its own):
 *   breaker and health changes are relayed to the other workers, breaker ownership (so that
 *   half-open trials run once for the host) is kept in the supervisor's table, and every
 *   `state.share-interval` each worker's in-flight counts and latency are exchanged for the
 *   others' (`load_share.ts`).
 *
 * The message types are the protocol between {@linkcode superviseWorkers} and
 * {@linkcode connectSupervisor}.
 *
 * @module
 */

import type { Config } from "../config/types.ts";
import { aggregateMetrics, type MetricsSnapshot } from "../observe/metrics.ts";
import type { Clock } from "../types.ts";
import type { GovernanceBus } from "./governance.ts";
import { aggregatePeers, type LoadReport, type PeerReport } from "./load_share.ts";

/** What the supervisor tells a worker. */
export type ToWorker =
  | { readonly t: "init"; readonly index: number; readonly count: number; readonly port: number }
  | { readonly t: "reload"; readonly config: Config }
  | { readonly t: "drain"; readonly signal: string }
  | { readonly t: "collect"; readonly id: number }
  | { readonly t: "metrics"; readonly id: number; readonly text: string }
  | { readonly t: "peers"; readonly id: number; readonly reports: readonly PeerReport[] }
  | { readonly t: "bus"; readonly message: string }
  | { readonly t: "claimed"; readonly id: number; readonly holder: string | null };

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
  | { readonly t: "release"; readonly key: string };

/** The part of a `Worker` (or of a worker's `self`) that the protocol uses. */
export interface MessagePortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

/** Options of {@linkcode superviseWorkers}. */
export interface SupervisorOptions {
  readonly count: number;
  /** The port every worker binds with `reusePort`. */
  readonly port: number;
  /** Starts worker `index` (a `new Worker(...)` in `main.ts`). */
  readonly spawn: (index: number) => MessagePortLike & { terminate(): void };
  /** Writes a log chunk to the one output stream. */
  readonly write: (chunk: Uint8Array) => void;
  /** An admin change was written by a worker: reload the file and hand it to all. */
  readonly adminChanged: () => void;
  /** Expiry of breaker ownership claims. */
  readonly clock: Clock;
}

/** The running workers. */
export interface Supervisor {
  /** Resolves with the address once every worker listens; rejects when one fails to start. */
  readonly listening: Promise<string>;
  /** Hands `config` to every worker. */
  reload(config: Config): void;
  /** Drains every worker; resolves once all have stopped. */
  drain(signal: string): Promise<void>;
  /** Stops the workers at once. */
  terminate(): void;
}

/** Starts `count` workers and supervises them. */
export function superviseWorkers(options: SupervisorOptions): Supervisor {
  const { count, port, write } = options;
  if (!Number.isSafeInteger(count) || count < 2) {
    throw new RangeError(`Cannot supervise workers: "count" must be an integer >= 2, received ${count}`);
  }
  const listening = Promise.withResolvers<string>();
  const stopped = Promise.withResolvers<void>();
  let up = 0;
  let down = 0;
  let nextId = 1;
  /** Scrapes in progress: who asked, and what came back so far. */
  const scrapes = new Map<
    number,
    { asker: number; askerId: number; asked: number; data: MetricsSnapshot[] }
  >();
  const workers = Array.from({ length: count }, (_, i) => options.spawn(i));
  const send = (i: number, m: ToWorker) => workers[i].postMessage(m);
  const broadcast = (m: ToWorker) => workers.forEach((w) => w.postMessage(m));
  /** Each worker's last load report, and who holds which breaker until when. */
  const loads: Array<readonly LoadReport[]> = workers.map(() => []);
  const claims = new Map<string, { owner: string; until: number }>();
  const claim = (key: string, owner: string, ttlMs: number): string | null => {
    const now = options.clock();
    const held = claims.get(key);
    if (held !== undefined && held.until > now) return held.owner;
    claims.set(key, { owner, until: now + ttlMs });
    return null;
  };

  const answerScrape = async (id: number) => {
    const s = scrapes.get(id);
    if (s === undefined || s.data.length < s.asked) return;
    scrapes.delete(id);
    send(s.asker, { t: "metrics", id: s.askerId, text: await aggregateMetrics(s.data) });
  };

  workers.forEach((w, i) => {
    w.onmessage = (event: MessageEvent) => {
      const m = event.data as FromWorker;
      switch (m.t) {
        case "log":
          return write(m.chunk);
        case "listening":
          if (++up === count) listening.resolve(m.address);
          return;
        case "admin-changed":
          return options.adminChanged();
        case "metrics?": {
          const id = nextId++;
          scrapes.set(id, { asker: i, askerId: m.id, asked: count, data: [] });
          return broadcast({ t: "collect", id });
        }
        case "collected": {
          scrapes.get(m.id)?.data.push(m.data);
          return void answerScrape(m.id);
        }
        case "stopped":
          if (++down === count) stopped.resolve();
          return;
        case "load":
          loads[i] = m.reports;
          return send(i, { t: "peers", id: m.id, reports: aggregatePeers(loads.filter((_, j) => j !== i)) });
        case "bus":
          return workers.forEach((w, j) => j !== i && w.postMessage({ t: "bus", message: m.message }));
        case "claim":
          return send(i, { t: "claimed", id: m.id, holder: claim(m.key, m.owner, m.ttlMs) });
        case "renew": {
          const held = claims.get(m.key);
          if (held?.owner === m.owner) held.until = options.clock() + m.ttlMs;
          return;
        }
        case "release":
          claims.delete(m.key);
          return;
        case "failed":
          return listening.reject(new Error(`worker ${i + 1} failed to start: ${m.error}`));
      }
    };
    send(i, { t: "init", index: i, count, port });
  });

  return {
    listening: listening.promise,
    reload: (config) => broadcast({ t: "reload", config }),
    drain(signal) {
      broadcast({ t: "drain", signal });
      return stopped.promise;
    },
    terminate() {
      for (const w of workers) w.terminate();
    },
  };
}

/** A worker's side of the protocol. */
export interface SupervisorLink {
  /** This worker's place (0-based) and the worker count, with the port to share. */
  readonly init: Promise<{ index: number; count: number; port: number }>;
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
  /** Registers what the worker does on reload, drain and collect. */
  handle(handlers: {
    reload(config: Config): void;
    drain(signal: string): void;
    collect(): Promise<MetricsSnapshot>;
  }): void;
}

/** Connects a worker (its global `self`) to the supervisor. */
export function connectSupervisor(port: MessagePortLike): SupervisorLink {
  const init = Promise.withResolvers<{ index: number; count: number; port: number }>();
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
  const post = (m: FromWorker, transfer?: Transferable[]) => port.postMessage(m, transfer);
  port.onmessage = (event: MessageEvent) => {
    const m = event.data as ToWorker;
    switch (m.t) {
      case "init":
        return init.resolve({ index: m.index, count: m.count, port: m.port });
      case "reload":
        return handlers?.reload(m.config);
      case "drain":
        return handlers?.drain(m.signal);
      case "collect":
        return void handlers?.collect().then((data) => post({ t: "collected", id: m.id, data }));
      case "metrics":
        return answer(m.id, m.text);
      case "peers":
        return answer(m.id, m.reports);
      case "claimed":
        return answer(m.id, m.holder);
      case "bus":
        return busListeners.forEach((l) => l(m.message));
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
    },
  };
}
