/**
 * The supervisor of `server.workers` (the main thread's side of `workers.ts`): starts the workers,
 * relays their logs, scrapes, admin changes and governance messages, hands every reload to all,
 * drains them all — and supervises them. A worker whose isolate fails (an uncaught error, or a
 * failure it reports as it starts again) is logged in one line and replaced by a fresh worker on
 * the config in force, after a backoff (`restart.ts`), without touching the other workers or their
 * requests.
 *
 * A worker that stops answering — its event loop blocked, or its isolate gone without an error
 * event — is found by a heartbeat: every worker is pinged about every second, and one not heard
 * from for `server.worker-stall-timeout` (a starting one: at least {@linkcode START_SILENCE_MS},
 * module loading included) has stalled. That one cannot be replaced in the process: Deno's
 * `Worker.terminate()` does not stop a thread that is running JavaScript (Deno 2.9: the thread
 * spins on, and its listener, sharing the port, keeps taking connections nobody answers). So a
 * stall is logged and reported ({@linkcode SupervisorOptions.stalled}): the process drains the
 * other workers and exits 1, for its service manager to start it again.
 *
 * Nothing waits on a worker without a deadline: a scrape answers with what the serving workers
 * gave (`scrapes.ts`), and a drain ends at `drain-delay` + `shutdown-timeout` +
 * {@linkcode STOP_MARGIN_MS} with the workers left terminated.
 *
 * @module
 */

import type { Config } from "../config/types.ts";
import type { Logger } from "../observe/logger.ts";
import type { Clock, Schedule } from "../types.ts";
import { aggregatePeers, type LoadReport } from "./load_share.ts";
import {
  createRestartBackoff,
  DEFAULT_RESTART_POLICY,
  type RestartBackoff,
  type RestartPolicy,
} from "./restart.ts";
import { createScrapes } from "./scrapes.ts";
import type { FromWorker, ToWorker, WorkerHandle } from "./workers.ts";

/** Options of {@linkcode superviseWorkers}. */
export interface SupervisorOptions {
  readonly count: number;
  /** The port every worker binds with `reusePort`. */
  readonly port: number;
  /** The configuration in force: a fresh worker started in place of a failed one gets it. */
  readonly config: Config;
  /** Starts worker `index` (a `new Worker(...)` in `main.ts`). */
  readonly spawn: (index: number) => WorkerHandle;
  /** Writes a log chunk to the one output stream. */
  readonly write: (chunk: Uint8Array) => void;
  /** The supervisor's own lines: a worker failed, was restarted, missed a deadline. */
  readonly logger: Pick<Logger, "info" | "warn" | "error">;
  /** An admin change was written by a worker: reload the file and hand it to all. */
  readonly adminChanged: () => void;
  /** Expiry of breaker ownership claims, restart streaks. */
  readonly clock: Clock;
  /** The timers of restarts and deadlines. */
  readonly schedule: Schedule;
  /** How failed workers are restarted. @default {DEFAULT_RESTART_POLICY} */
  readonly restart?: RestartPolicy;
  /** How long a `/metrics` scrape waits for the workers, ms. @default {2000} */
  readonly scrapeTimeoutMs?: number;
  /**
   * A worker (1-based) stopped answering the heartbeat: it is ended as far as Deno can and not
   * replaced; the caller should drain the others and exit non-zero. Called once.
   */
  readonly stalled: (worker: number) => void;
}

/**
 * What a worker gets on top of `drain-delay` + `shutdown-timeout` to stop: the cut requests' grace
 * (1 s, `drain.ts`), closing and saving the state, flushing the log.
 */
export const STOP_MARGIN_MS = 2000;

/** How long a starting worker may be silent at least (loading its modules, its config, its state). */
export const START_SILENCE_MS = 30_000;

/** Time between heartbeats for a stall timeout of `stallMs` (> 0): a quarter of it, 50 ms to 1 s. */
export function heartbeatMs(stallMs: number): number {
  return Math.min(1000, Math.max(50, stallMs / 4));
}

/** The running workers. */
export interface Supervisor {
  /** Resolves with the address once every worker listens; rejects when one fails to start. */
  readonly listening: Promise<string>;
  /** Hands `config` to every worker (and to those started later). */
  reload(config: Config): void;
  /**
   * Drains every worker; resolves once all have stopped, or at the deadline (`drain-delay` +
   * `shutdown-timeout` + {@linkcode STOP_MARGIN_MS}) with those left terminated.
   */
  drain(signal: string): Promise<void>;
  /** Stops the workers at once. */
  terminate(): void;
}

/** One place among the workers: the worker in it now, if any, and its state. */
interface Slot {
  readonly index: number;
  readonly backoff: RestartBackoff;
  worker?: WorkerHandle;
  /** `up` once it listens; `down` while it waits for a restart; `stopped` once drained or ended. */
  state: "starting" | "up" | "down" | "stopped";
  /** Cancels the pending restart. */
  cancelRestart?: () => void;
  /** When the worker in it last spoke (or was started), on the supervisor's clock. */
  heardAt: number;
}

/** Starts `count` workers and supervises them: a worker that fails is logged and replaced. */
export function superviseWorkers(options: SupervisorOptions): Supervisor {
  const { count, port, write, logger, schedule } = options;
  if (!Number.isSafeInteger(count) || count < 2) {
    throw new RangeError(`Cannot supervise workers: "count" must be an integer >= 2, received ${count}`);
  }
  const listening = Promise.withResolvers<string>();
  const stopped = Promise.withResolvers<void>();
  let config = options.config;
  let started = false;
  let stopping = false;
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({
    index,
    backoff: createRestartBackoff(options.restart ?? DEFAULT_RESTART_POLICY, options.clock),
    state: "starting",
    heardAt: options.clock(),
  }));
  const send = (i: number, m: ToWorker) => slots[i].worker?.postMessage(m);
  const indexes = (which: (s: Slot) => boolean) => slots.filter(which).map((s) => s.index);
  /** Workers running (a starting one keeps a reload until it can apply it); those that serve. */
  const alive = () => indexes((s) => s.worker !== undefined);
  const serving = () => indexes((s) => s.state === "up");
  const scrapes = createScrapes({
    timeoutMs: options.scrapeTimeoutMs ?? 2000,
    schedule,
    onLate: (missing) =>
      logger.warn("metrics answered without workers that did not reply in time", {
        event: "worker",
        workers: missing.map((i) => i + 1),
      }),
  });
  /** Each worker's last load report, and who holds which breaker until when. */
  const loads: Array<readonly LoadReport[]> = slots.map(() => []);
  const claims = new Map<string, { owner: string; until: number }>();
  const claim = (key: string, owner: string, ttlMs: number): string | null => {
    const now = options.clock();
    const held = claims.get(key);
    if (held !== undefined && held.until > now) return held.owner;
    claims.set(key, { owner, until: now + ttlMs });
    return null;
  };
  /** Resolves the drain once no worker is left to wait on. */
  const checkStopped = () => {
    if (stopping && slots.every((s) => s.state === "stopped")) stopped.resolve();
  };

  /** Ends the worker in `slot` (it failed): nothing waits on it; a fresh one follows unless stopping. */
  const fail = (slot: Slot, error: string) => {
    if (!started) return listening.reject(new Error(`worker ${slot.index + 1} failed to start: ${error}`));
    slot.worker?.terminate();
    slot.worker = undefined;
    loads[slot.index] = [];
    scrapes.forget(slot.index);
    if (stopping) return (slot.state = "stopped", checkStopped());
    const restartInMs = slot.backoff.failed();
    logger.error("worker failed; starting a fresh one", {
      event: "worker",
      worker: slot.index + 1,
      error,
      restartInMs,
    });
    slot.state = "down";
    slot.cancelRestart = schedule(() => start(slot), restartInMs);
  };

  const onMessage = (slot: Slot, worker: WorkerHandle, m: FromWorker) => {
    const i = slot.index;
    if (slot.worker === worker) slot.heardAt = options.clock();
    // A worker's last log lines count; anything else from a worker already replaced does not.
    if (m.t === "log") return write(m.chunk);
    if (slot.worker !== worker) return;
    switch (m.t) {
      case "listening":
        slot.state = "up";
        if (started) return logger.info("worker restarted", { event: "worker", worker: i + 1 });
        if (slots.every((s) => s.state === "up")) (started = true, listening.resolve(m.address));
        return;
      case "admin-changed":
        return options.adminChanged();
      case "metrics?":
        return void scrapes.start(
          serving(),
          (j, id) => send(j, { t: "collect", id }),
          (text) => worker.postMessage({ t: "metrics", id: m.id, text } satisfies ToWorker),
        );
      case "collected":
        return scrapes.collected(m.id, i, m.data);
      case "stopped":
        slot.state = "stopped";
        scrapes.forget(i); // what it counted stays in the scrapes the others answer while they drain
        return checkStopped();
      case "load":
        loads[i] = m.reports;
        return send(i, { t: "peers", id: m.id, reports: aggregatePeers(loads.filter((_, j) => j !== i)) });
      case "bus":
        return alive().forEach((j) => j !== i && send(j, { t: "bus", message: m.message }));
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
        return fail(slot, m.error);
      case "pong":
        return;
    }
  };

  /**
   * The heartbeat: a worker silent past its allowance has stalled (a failed start before every
   * worker listens; afterwards the end of the process, see the module doc); the others are pinged. The timeout is read from the config in force on every beat (a reload changes it; at
   * 0 the heartbeat stops until a reload sets one). A beat that runs late — this thread was busy,
   * say validating a large config — judges no one: the answers may be waiting behind it.
   */
  let cancelBeat: (() => void) | undefined;
  let beatDueAt = 0;
  const beat = () => {
    cancelBeat = undefined;
    const stallMs = config.server.workerStallTimeoutMs;
    if (stallMs <= 0 || stopping) return;
    const now = options.clock();
    const late = now - beatDueAt > heartbeatMs(stallMs);
    for (const slot of slots) {
      if (slot.worker === undefined || (slot.state !== "up" && slot.state !== "starting")) continue;
      const silentMs = now - slot.heardAt;
      if (late || silentMs < (slot.state === "up" ? stallMs : Math.max(stallMs, START_SILENCE_MS))) {
        send(slot.index, { t: "ping" });
      } else {
        stall(slot, `no answer for ${Math.round(silentMs)} ms (its event loop is blocked, or it ended)`);
      }
    }
    if (!stopping) armBeat(stallMs);
  };
  /** `slot`'s worker stalled: a failed start, or the end of this process (see the module doc). */
  let stallReported = false;
  const stall = (slot: Slot, error: string) => {
    if (!started) return fail(slot, error);
    slot.worker?.terminate(); // ends a worker that is gone; one stuck in JavaScript runs on
    slot.worker = undefined;
    slot.state = "stopped";
    loads[slot.index] = [];
    scrapes.forget(slot.index);
    logger.error("worker stopped answering; draining the other workers and exiting for a restart", {
      event: "worker",
      worker: slot.index + 1,
      error,
    });
    if (!stallReported) (stallReported = true, options.stalled(slot.index + 1));
  };
  const armBeat = (stallMs: number) => {
    beatDueAt = options.clock() + heartbeatMs(stallMs);
    cancelBeat = schedule(beat, heartbeatMs(stallMs));
  };
  /** Starts the heartbeat when it is off and the config wants one; silence counts from now. */
  const startBeat = () => {
    const stallMs = config.server.workerStallTimeoutMs;
    if (cancelBeat !== undefined || stopping || stallMs <= 0) return;
    const now = options.clock();
    for (const slot of slots) slot.heardAt = now;
    armBeat(stallMs);
  };

  /** Starts a worker in `slot`; a fresh one (after a failure) gets the config in force. */
  function start(slot: Slot): void {
    const worker = options.spawn(slot.index);
    slot.worker = worker;
    slot.state = "starting";
    slot.cancelRestart = undefined;
    slot.heardAt = options.clock();
    slot.backoff.started();
    worker.onmessage = (event) => onMessage(slot, worker, event.data as FromWorker);
    worker.onerror = (event) => {
      // Handled here: unhandled, a worker's uncaught error ends the whole process.
      event.preventDefault();
      if (slot.worker === worker) fail(slot, event.message);
    };
    const init = { t: "init", index: slot.index, count, port } as const;
    worker.postMessage((started ? { ...init, config } : init) satisfies ToWorker);
  }

  slots.forEach(start);
  startBeat();
  const endAll = () => {
    cancelBeat?.();
    for (const slot of slots) {
      slot.cancelRestart?.();
      slot.worker?.terminate();
      slot.state = "stopped";
    }
  };
  return {
    listening: listening.promise,
    reload(next) {
      config = next;
      startBeat();
      for (const i of alive()) send(i, { t: "reload", config });
    },
    drain(signal) {
      stopping = true;
      // A worker stuck now is ended at the drain's deadline; none is started any more.
      cancelBeat?.();
      for (const slot of slots) {
        // A slot waiting for its restart stays empty; a worker still starting drains once it can.
        slot.cancelRestart?.();
        if (slot.worker === undefined) slot.state = "stopped";
        else if (slot.state !== "stopped") send(slot.index, { t: "drain", signal });
      }
      checkStopped();
      const { drainDelayMs, shutdownTimeoutMs } = config.server;
      const cancel = schedule(() => {
        const left = slots.filter((s) => s.state !== "stopped").map((s) => s.index + 1);
        logger.warn("workers did not stop by the deadline; ending them", { event: "stop", workers: left });
        endAll();
        stopped.resolve();
      }, drainDelayMs + shutdownTimeoutMs + STOP_MARGIN_MS);
      void stopped.promise.then(cancel);
      return stopped.promise;
    },
    terminate: endAll,
  };
}
