/**
 * Active health checks: every `intervalMs`, one round probes all targets concurrently, each probe
 * bounded by its deadline, and feeds the verdict to the target's {@linkcode HealthState}.
 *
 * - One probe is {@linkcode probeOnce}: HTTP (verdict by `expect-status`, default any answer below
 *   500) or a TCP connect; network errors and timeouts are failures.
 * - Rounds run at a fixed rate and never overlap: a round still running when the next is due makes
 *   that tick a skip (counted in {@linkcode Prober.skipped}).
 * - `stop()` cancels the schedule and aborts the probes in flight; aborted probes are not counted
 *   against the instance, since the gateway, not the instance, gave up.
 *
 * @module
 */

import { checkTickerOptions, createTicker, type TickerOptions, timeoutSchedule } from "../ticker.ts";
import type { ProbeRequest, StatusRange, TcpAddress } from "../types.ts";
import type { HealthState } from "./health_state.ts";
import { probeOnce, type Schedule, type TcpConnect } from "./probe_once.ts";

export type { Schedule, TcpConnect };

/** One instance to probe. */
export interface ProbeTarget {
  /** Instance id, echoed in outcomes. */
  readonly id: string;
  /**
   * Builds the probe, called once per round: an HTTP request (usually `adapter.probe(service,
   * target)` with the instance's `health-check` applied) or a TCP address.
   */
  readonly request: () => ProbeRequest | TcpAddress;
  /** Where the verdict goes. */
  readonly state: HealthState;
  /** HTTP statuses that count as up. @default {any status below 500} */
  readonly expect?: readonly StatusRange[];
  /** This target's deadline, ms (> 0). @default {the prober's timeoutMs} */
  readonly timeoutMs?: number;
}

/** What happened to one probe. */
export interface ProbeOutcome {
  /** The target's id. */
  readonly id: string;
  /**
   * `up` / `down`: recorded in the target's state. `aborted`: cut short by `stop()`, not recorded.
   * `error`: the probe request could not be built or the state callback threw; reported to `onError`.
   */
  readonly result: "up" | "down" | "aborted" | "error";
  /** The HTTP status, when a response arrived. */
  readonly status?: number;
  /** Short human text: `HTTP 503`, `TCP connect ok`, `timeout after 100 ms`, the network error. */
  readonly detail: string;
  /** From sending the request to the verdict, by the injected clock. */
  readonly durationMs: number;
}

/** Options of {@linkcode createProber}; `schedule` also arms the per-probe deadlines. */
export interface ProberOptions extends TickerOptions {
  /** The `fetch` to probe with (inject the global one in `main.ts`). */
  readonly fetch: typeof fetch;
  /** Opens TCP connections for `type: tcp` targets (`main.ts` injects one on `Deno.connect`). */
  readonly connect?: TcpConnect;
  /** Per-probe deadline, headers and body cancellation included (> 0). */
  readonly timeoutMs: number;
  /** The current targets; read at the start of every round, so config reloads take effect. */
  readonly targets: () => Iterable<ProbeTarget>;
  /** Receives every probe outcome (metrics, debug logs). */
  readonly onProbe?: (outcome: ProbeOutcome) => void;
  /** Receives errors that are nobody's verdict: `targets()` or `request()` throwing, callbacks throwing. */
  readonly onError?: (error: unknown) => void;
}

/** A running or idle active health checker. */
export interface Prober {
  /** Runs a round now, then one every `intervalMs`. Calling it while started does nothing. */
  start(): void;
  /** Cancels the schedule and aborts probes in flight; resolves once the round in flight has settled. */
  stop(): Promise<void>;
  /**
   * Probes every target once, concurrently. If a round is already running, joins it instead of
   * starting an overlapping one. Never rejects.
   */
  runOnce(): Promise<readonly ProbeOutcome[]>;
  /** Whether the schedule is active. */
  readonly started: boolean;
  /** Scheduled ticks skipped because the previous round was still running. */
  readonly skipped: number;
}

function positive(name: string, value: number): void {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`Cannot create prober: "${name}" must be a finite number > 0, received ${value}`);
  }
}

function fn(name: string, value: unknown, optional: boolean): void {
  if ((optional && value === undefined) || typeof value === "function") return;
  throw new TypeError(`Cannot create prober: "${name}" must be a function, received ${typeof value}`);
}

/**
 * Creates an active prober.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHealthState, createProber } from "./mod.ts";
 *
 * const state = createHealthState({ healthyThreshold: 1, unhealthyThreshold: 1, passiveFailures: 3 });
 * // A stand-in fetch keeps the example offline; main.ts passes the real one.
 * const fakeFetch = () => Promise.resolve(new Response("busy", { status: 503 }));
 * const prober = createProber({
 *   fetch: fakeFetch,
 *   clock: () => 0,
 *   intervalMs: 5_000,
 *   timeoutMs: 1_000,
 *   targets: () => [{
 *     id: "chat/llama@http://127.0.0.1:11434",
 *     request: () => ({ url: "http://127.0.0.1:11434/api/tags", method: "GET", headers: new Headers() }),
 *     state,
 *   }],
 * });
 * const [outcome] = await prober.runOnce();
 * assert(outcome.result === "down" && outcome.detail === "HTTP 503" && !state.healthy);
 * ```
 */
export function createProber(options: ProberOptions): Prober {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot create prober: options must be an object, received ${options}`);
  }
  fn("fetch", options.fetch, false);
  fn("connect", options.connect, true);
  fn("targets", options.targets, false);
  fn("onProbe", options.onProbe, true);
  fn("onError", options.onError, true);
  checkTickerOptions("prober", options);
  positive("timeoutMs", options.timeoutMs);

  const { fetch: doFetch, connect, clock, timeoutMs, targets, onProbe, onError } = options;
  const schedule = options.schedule ?? timeoutSchedule;
  const ticker = createTicker({
    clock,
    intervalMs: options.intervalMs,
    schedule,
    onTick() {
      if (current) skipped++;
      else void runOnce();
    },
  });

  let skipped = 0;
  let current: Promise<readonly ProbeOutcome[]> | undefined;
  let roundAbort: AbortController | undefined;

  function report(error: unknown): void {
    try {
      onError?.(error);
    } catch {
      // The error sink itself failed; there is nowhere left to report to.
    }
  }

  async function probe(target: ProbeTarget, stopSignal: AbortSignal): Promise<ProbeOutcome> {
    const begin = clock();
    let req: ProbeRequest | TcpAddress;
    try {
      req = target.request();
    } catch (error) {
      report(error);
      const detail = `probe request could not be built: ${(error as Error)?.message ?? error}`;
      return { id: target.id, result: "error", detail, durationMs: clock() - begin };
    }
    const verdict = await probeOnce(req, {
      fetch: doFetch,
      connect,
      schedule,
      timeoutMs: target.timeoutMs ?? timeoutMs,
      stopSignal,
      expect: target.expect,
    });
    return { id: target.id, ...verdict, durationMs: clock() - begin };
  }

  async function probeAndRecord(target: ProbeTarget, stopSignal: AbortSignal): Promise<ProbeOutcome> {
    const outcome = await probe(target, stopSignal);
    if (outcome.result === "up" || outcome.result === "down") {
      try {
        target.state.probeResult(outcome.result === "up", outcome.detail);
      } catch (error) {
        // The state is updated before onChange runs; only the callback failed.
        report(error);
      }
    }
    try {
      onProbe?.(outcome);
    } catch (error) {
      report(error);
    }
    return outcome;
  }

  async function round(stopSignal: AbortSignal): Promise<readonly ProbeOutcome[]> {
    let list: ProbeTarget[];
    try {
      list = [...targets()];
    } catch (error) {
      report(error);
      return [];
    }
    return await Promise.all(list.map((t) => probeAndRecord(t, stopSignal)));
  }

  function runOnce(): Promise<readonly ProbeOutcome[]> {
    if (current) return current;
    const ctrl = new AbortController();
    roundAbort = ctrl;
    const p = round(ctrl.signal).finally(() => {
      if (current === p) {
        current = undefined;
        roundAbort = undefined;
      }
    });
    current = p;
    return p;
  }

  return {
    start: ticker.start,
    async stop() {
      ticker.stop();
      roundAbort?.abort();
      if (current) await current;
    },
    runOnce,
    get started() {
      return ticker.started;
    },
    get skipped() {
      return skipped;
    },
  };
}
