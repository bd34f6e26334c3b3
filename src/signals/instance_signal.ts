/**
 * The engine signal of one instance: the last good reading, its age, and the correction that
 * keeps it useful between scrapes.
 *
 * **Correction.** An engine's numbers lag by up to one scrape interval. The gateway knows what it
 * did meanwhile: `stats.inFlight` counts requests sent and not yet finished, so
 * `inFlight(now) − inFlight(at the reading)` is exactly *sent since − finished since*. The request
 * path therefore needs no new counter: it keeps incrementing and decrementing `inFlight` as it does,
 * and {@linkcode InstanceSignal.record} snapshots it when a reading lands. A positive delta joins
 * the queue when the engine had one (its batch was full), else the batch — up to the batch the
 * engine was last seen running with a queue behind it (its learned batch size: memory can make
 * it smaller than the engine's maximum), the rest then queues; a negative delta lets the queue advance first (a finished request frees a
 * slot for a waiting one), then shrinks the batch. Both stay ≥ 0.
 *
 * **Trust.** A reading older than `staleAfterMs`, or none at all, is not trusted:
 * {@linkcode InstanceSignal.read} returns `undefined` and strategies fall back to `inFlight`.
 * A failed scrape keeps the previous reading, which then ages out. So does an unusable reading (a
 * total that is not finite, `unusableReading`): it is refused, never stored, so the correction
 * below only ever sees finite counts.
 *
 * @module
 */

import type { Clock, EngineLoad, EngineSignal, EngineSignalStatus } from "../types.ts";
import { type EngineReading, unusableReading } from "./engines.ts";
import { isResident } from "./ollama_ps.ts";

interface MutableLoad {
  waiting?: number;
  running?: number;
  kvUsage?: number;
  resident?: boolean;
  batch?: number;
}

/**
 * Live signal of one instance; attached to the instance's `stats.engine`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InstanceSignal } from "./instance_signal.ts";
 *
 * let now = 0;
 * const signal = new InstanceSignal({ clock: () => now, staleAfterMs: 3000, model: "qwen" });
 * assert.equal(signal.read(0), undefined); // nothing read yet
 * signal.record({ waiting: 2, running: 8, kvUsage: 0.5 }, 4); // 4 of ours in flight then
 * now = 500;
 * const load = signal.read(6)!; // 2 more sent since: they join the queue
 * assert.ok(load.waiting === 4 && load.running === 8 && load.kvUsage === 0.5);
 * now = 3001;
 * assert.equal(signal.read(6), undefined); // stale
 * ```
 */
export class InstanceSignal implements EngineSignal {
  /** Readings older than this are not trusted (ms); may change on a config reload. */
  staleAfterMs: number;
  /** The instance's model name (for model labels and Ollama residency). */
  readonly model: string;
  private readonly clock: Clock;
  private reading: EngineReading | undefined;
  private at = 0;
  private inFlightAtReading = 0;
  private resident: boolean | undefined;
  /** The learned batch size: requests seen running with others queued behind them, lately. */
  private batch: number | undefined;
  private error: string | undefined;
  private readonly view: MutableLoad = {};

  constructor(options: { clock: Clock; staleAfterMs: number; model: string }) {
    this.clock = options.clock;
    this.staleAfterMs = options.staleAfterMs;
    this.model = options.model;
  }

  /**
   * Stores a good reading, taken while `inFlight` of the gateway's requests were in flight; returns
   * false, and notes the failure as {@linkcode InstanceSignal.fail} does, for an unusable one.
   */
  record(reading: EngineReading, inFlight: number): boolean {
    const unusable = unusableReading(reading);
    if (unusable !== undefined) {
      this.fail(unusable);
      return false;
    }
    this.reading = reading;
    this.at = this.clock();
    this.inFlightAtReading = inFlight;
    this.resident = reading.models === undefined ? undefined : isResident(reading.models, this.model);
    // A queue behind the batch says the batch is full at its size now (memory may make it smaller
    // than the engine's maximum); a larger batch running without a queue raises it.
    if (reading.running !== undefined) {
      if ((reading.waiting ?? 0) > 0) this.batch = reading.running;
      else if (this.batch !== undefined && reading.running > this.batch) this.batch = reading.running;
    }
    this.error = undefined;
    return true;
  }

  /** Notes a failed scrape; the previous reading is kept and ages out. */
  fail(error: string): void {
    this.error = error;
  }

  /** The last scrape failed (cleared by the next good reading). */
  get failing(): boolean {
    return this.error !== undefined;
  }

  /** Whether a reading exists and is younger than `staleAfterMs`. */
  get trusted(): boolean {
    return this.reading !== undefined && this.clock() - this.at <= this.staleAfterMs;
  }

  /**
   * The corrected load (see the module doc), or `undefined` when missing or stale. The returned
   * object is reused: it is valid until the next `read` of this instance.
   */
  read(inFlight: number): EngineLoad | undefined {
    const r = this.reading;
    if (r === undefined || this.clock() - this.at > this.staleAfterMs) return undefined;
    const v = this.view;
    if (r.waiting !== undefined || r.running !== undefined) {
      let waiting = r.waiting ?? 0;
      let running = r.running ?? 0;
      const delta = inFlight - this.inFlightAtReading;
      if (delta > 0) {
        if (waiting > 0 || r.running === undefined) waiting += delta;
        else {
          const joins = this.batch === undefined ? delta : Math.min(delta, Math.max(0, this.batch - running));
          running += joins;
          waiting += delta - joins;
        }
      } else if (delta < 0) {
        const advanced = Math.min(waiting, -delta);
        waiting -= advanced;
        running = Math.max(0, running - (-delta - advanced));
      }
      v.waiting = waiting;
      v.running = running;
    } else {
      v.waiting = undefined;
      v.running = undefined;
    }
    v.kvUsage = r.kvUsage;
    v.resident = this.resident;
    v.batch = this.batch;
    return v;
  }

  /** The last reading as reported, its age and trust, for status pages and metrics. */
  status(): EngineSignalStatus {
    const r = this.reading;
    const error = this.error === undefined ? {} : { error: this.error };
    if (r === undefined) return { trusted: false, ...error };
    return {
      ...(r.waiting !== undefined ? { waiting: r.waiting } : {}),
      ...(r.running !== undefined ? { running: r.running } : {}),
      ...(r.kvUsage !== undefined ? { kvUsage: r.kvUsage } : {}),
      ...(r.models !== undefined ? { models: r.models } : {}),
      ageSeconds: Math.max(0, this.clock() - this.at) / 1000,
      trusted: this.trusted,
      ...error,
    };
  }
}

/**
 * The accessor the request path passes as `PickContext.load`: an endpoint's trusted, corrected
 * engine load, or `undefined`. One shared function, so a pick allocates no closure for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { engineLoadOf } from "./instance_signal.ts";
 *
 * const endpoint = { id: "a", weight: 1, stats: { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 } };
 * assert.equal(engineLoadOf(endpoint), undefined); // not scraped
 * ```
 */
export function engineLoadOf(endpoint: { readonly stats: { inFlight: number; engine?: EngineSignal } }):
  | EngineLoad
  | undefined {
  const s = endpoint.stats;
  return s.engine === undefined ? undefined : s.engine.read(s.inFlight);
}
