/**
 * How one gateway isolate stops (SIGTERM/SIGINT, or the supervisor's drain of a worker):
 *
 * 1. `/readyz` answers 503 at once while the listeners keep accepting and serving for
 *    `server.drain-delay` (load balancers and Kubernetes see "not ready" and move traffic away);
 * 2. the listeners close, and the requests in flight get `server.shutdown-timeout` to finish;
 * 3. whatever still runs is cut (a stream ends with an SSE error event) and gets a short grace to
 *    end — never a wait on a client that stopped reading;
 * 4. the gateway closes, then what the caller holds is released (cluster links, state saved), the
 *    last log line is written, and the caller finishes (flushes the log, tells the supervisor).
 *
 * Timers are injected: the sequence is tested on hand-driven time (`drain_test.ts`).
 *
 * @module
 */

import type { Gateway } from "../gateway.ts";

/** How the listeners ended: closed by themselves, closed after the cut, or still open at the end. */
export type DrainResult = "done" | "cut" | "timeout";

/** Resolves after `ms` (on a timer that keeps the process alive while the gateway drains). */
export type Sleep = (ms: number) => Promise<void>;

/** Options of {@linkcode createDrain}. */
export interface DrainOptions {
  /** The gateway that drains, is cut and closes. */
  readonly gateway: Pick<Gateway, "drain" | "cut" | "close" | "inFlight" | "logger">;
  /** Closed after the drain delay (the main listener and the admin one). */
  readonly listeners: () => readonly { shutdown(): Promise<void> }[];
  /** `server.drain-delay`, ms. */
  readonly drainDelayMs: number;
  /** `server.shutdown-timeout`, ms. */
  readonly shutdownTimeoutMs: number;
  /** How long cut requests get to end, ms. @default {1000} */
  readonly cutGraceMs?: number;
  readonly sleep: Sleep;
  /** Runs as draining begins (stop watching the config file, close the console's feeds). */
  readonly onDraining?: () => void;
  /** Runs once the gateway has closed (cluster links, timers, state saved). */
  readonly release?: () => Promise<void>;
  /** Runs after the last log line ("stopped"): flush the log, tell the supervisor. */
  readonly finish?: () => Promise<void> | void;
}

/** A drain, started once. */
export interface Drain {
  /** Starts draining (later calls join the drain under way); resolves once it is over. */
  start(signal: string): Promise<DrainResult>;
  /** Resolves once a drain, however started, is over. */
  readonly finished: Promise<DrainResult>;
}

function validate(options: DrainOptions): void {
  for (const key of ["drainDelayMs", "shutdownTimeoutMs", "cutGraceMs"] as const) {
    const value = options[key] ?? 0;
    if (!(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`Cannot create drain: "${key}" must be >= 0, received ${value}`);
    }
  }
}

/**
 * Creates the drain sequence of a gateway (not started).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config/load.ts";
 * import { createGateway } from "../gateway.ts";
 * import { createDrain } from "./drain.ts";
 * const { config } = parseConfig("model: {}\n", { source: "x.yaml", env: {} });
 * const lines: string[] = [];
 * const gateway = createGateway(config, { clock: () => 0, random: () => 0.5, fetch, write: (l) => lines.push(l) });
 * const drain = createDrain({
 *   gateway,
 *   listeners: () => [{ shutdown: () => Promise.resolve() }],
 *   drainDelayMs: 0,
 *   shutdownTimeoutMs: 1000,
 *   // No delay; a deadline that never comes (the listener closes at once).
 *   sleep: (ms) => ms === 0 ? Promise.resolve() : new Promise(() => {}),
 * });
 * assert.equal(await drain.start("SIGTERM"), "done");
 * assert.match(lines.at(-1)!, /stopped/);
 * ```
 */
export function createDrain(options: DrainOptions): Drain {
  validate(options);
  const { gateway, sleep } = options;
  const cutGraceMs = options.cutGraceMs ?? 1000;
  const finished = Promise.withResolvers<DrainResult>();
  let started = false;
  const after = <T>(ms: number, value: T) => sleep(ms).then(() => value);

  /** Closes the listeners; cuts what outlives the deadline. */
  const closeListeners = async (): Promise<DrainResult> => {
    gateway.logger.info("listener closed; waiting for in-flight requests", {
      event: "stop",
      inFlight: gateway.inFlight(),
    });
    const closed = Promise.all(options.listeners().map((l) => l.shutdown())).then(() => "done" as const);
    const result = await Promise.race([closed, after(options.shutdownTimeoutMs, "timeout" as const)]);
    if (result === "done") return result;
    gateway.logger.warn("shutdown deadline reached; cutting in-flight requests", {
      event: "stop",
      inFlight: gateway.cut(),
    });
    // The cut requests end within a few event-loop turns; never wait on a client that stopped reading.
    return await Promise.race([closed.then(() => "cut" as const), after(cutGraceMs, "timeout" as const)]);
  };

  const run = async (signal: string) => {
    gateway.drain();
    options.onDraining?.();
    gateway.logger.info("draining", {
      event: "stop",
      signal,
      drainDelayMs: options.drainDelayMs,
      deadlineMs: options.shutdownTimeoutMs,
    });
    await sleep(options.drainDelayMs);
    const result = await closeListeners();
    await gateway.close();
    await options.release?.();
    gateway.logger.info("stopped", { event: "stop", result, inFlight: gateway.inFlight() });
    await options.finish?.();
    return result;
  };

  return {
    start(signal) {
      if (!started) {
        started = true;
        run(signal).then(finished.resolve, finished.reject);
      }
      return finished.promise;
    },
    finished: finished.promise,
  };
}
