/**
 * Runs latency outlier detection (`src/health/outlier.ts`) over the live table: a
 * {@linkcode Watch} of the gateway's one {@linkcode DeadlineSweep}, so it costs no timer of its
 * own. It is in the sweep only while it has something to do — while some attempt waits for a first
 * byte, or an outlier ejection is still to end — and then checks every `outlier-detection.interval`
 * (the shortest of the services that enable it):
 *
 * - an outlier is ejected through its health state (`ejectUntil`), so the ejection is a health
 *   change like any other: logged, in metrics and on the console with its reason, shared by a
 *   cluster, and its waiting attempts fail over (the runtime's health hook does that);
 * - an ejection whose time has passed ends (`expireEjection`): the instance is back unless its
 *   probes or an operator keep it out.
 *
 * @module
 */

import type { Clock } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import type { OutlierCandidate } from "../health/outlier.ts";
import type { DeadlineSweep, Watch } from "./deadlines.ts";
import { Link } from "../linked_list.ts";
import type { ModelPool, Runtime, ServiceRuntime } from "./runtime_types.ts";
import type { WaitCount } from "./waiting.ts";

/** Options of {@linkcode OutlierMonitor}. */
export interface OutlierMonitorOptions {
  /** The gateway's deadline sweep (its clock schedules the checks). */
  readonly sweep: DeadlineSweep;
  /** The live table (read at every check, so reloads take effect). */
  readonly runtime: () => Runtime;
  /** The request clock (attempt start times, first bytes and ejections are on it). */
  readonly clock: Clock;
  /** The gateway-wide count of waiting attempts; the monitor takes its hooks. */
  readonly count: WaitCount;
}

/** Outlier detection's schedule and the application of its verdicts. */
export class OutlierMonitor implements Watch {
  /** {@linkcode Watch}: the next check, on the sweep's clock. */
  due = Infinity;
  readonly dueLink: Link<Watch> = new Link(this);
  readonly #o: OutlierMonitorOptions;
  #inSweep = false;
  /** Outlier ejections still to end, as counted at the last check. */
  #pending = 0;
  /** The check interval of the table it was computed for (`Infinity`: detection is off everywhere). */
  #interval = Infinity;
  #intervalOf: Runtime | undefined;

  constructor(options: OutlierMonitorOptions) {
    this.#o = options;
    options.count.onBusy = () => this.#arm();
    options.count.onIdle = () => {
      if (this.#pending === 0 && this.#inSweep) {
        this.#o.sweep.delete(this);
        this.#inSweep = false;
      }
    };
  }

  /** {@linkcode Watch}: time for a check; then stays in the sweep while there is work. */
  expire(): void {
    this.#inSweep = false;
    this.check();
    if (this.#o.count.waiting > 0 || this.#pending > 0) this.#arm();
  }

  /** One check of every pool now: ends due ejections, ejects outliers. */
  check(): void {
    const rt = this.#o.runtime();
    const now = this.#o.clock();
    this.#pending = 0;
    for (const u of rt.upstreams) {
      if (u.health.ejectedUntil === 0) continue;
      if (!u.health.expireEjection(now, "latency outlier ejection ended")) this.#pending++;
    }
    for (const kind of SERVICE_KINDS) {
      const svc = rt.services[kind];
      if (svc.outlier === undefined) continue;
      for (const pool of svc.pools.values()) this.#checkPool(svc, pool, now);
    }
  }

  #checkPool(svc: ServiceRuntime, pool: ModelPool, now: number): void {
    const detector = svc.outlier!;
    const ups = pool.upstreams;
    if (ups.length < 2) return;
    // The common case costs a look at each instance's oldest wait.
    const minWait = detector.options.minWaitMs;
    if (!ups.some((u) => u.waiting.size > 0 && now - u.waiting.oldestStart! >= minWait)) return;
    const candidates: OutlierCandidate[] = ups.map((u) => ({
      oldestWaitStart: u.waiting.oldestStart,
      available: u.health.healthy && u.breaker.canPass(),
      outlierEjected: u.health.ejectedUntil !== 0,
      progress: u.waiting.progress,
    }));
    for (const e of detector.judge(candidates, pool.firstByteTimes.reference(), now)) {
      this.#pending++;
      ups[e.index].health.ejectUntil(e.untilMs, e.reason);
    }
  }

  #arm(): void {
    if (this.#inSweep) return;
    const interval = this.#intervalFor(this.#o.runtime());
    // Detection off everywhere: only ejections still to end need checks (at the default pace).
    if (interval === Infinity && this.#pending === 0) return;
    const sweep = this.#o.sweep;
    this.due = sweep.now() + (interval === Infinity ? 1000 : interval);
    this.#inSweep = true;
    sweep.add(this);
  }

  #intervalFor(rt: Runtime): number {
    if (rt !== this.#intervalOf) {
      this.#intervalOf = rt;
      this.#interval = Infinity;
      for (const kind of SERVICE_KINDS) {
        const o = rt.services[kind].outlier;
        if (o && rt.services[kind].pools.size > 0) {
          this.#interval = Math.min(this.#interval, o.options.intervalMs);
        }
      }
    }
    return this.#interval;
  }
}
