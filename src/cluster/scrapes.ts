/**
 * The `/metrics` scrapes of `server.workers`: the scraped worker asks the supervisor, which asks
 * every live worker for its metrics and answers with their aggregate once each has answered, is
 * gone (it failed), or the deadline has passed — whichever comes first. A scrape never waits on a
 * worker that is gone or hung: it answers with what the others gave, and says who was missing.
 *
 * Counters never go down in the aggregate (Prometheus reads a drop as a restart and counts the whole
 * value again as new): a worker that misses a scrape's deadline is counted with the counters and
 * histograms of its last answer, and a worker that is gone keeps what it counted up to its last
 * answer, merged into one snapshot of everything gone workers counted. Its gauges go with it, but
 * for the event loop's lag: a worker that could not answer within the deadline has been late at
 * least that long, and the host's lag says so.
 *
 * @module
 */

import {
  aggregateMetrics,
  loopLagSnapshot,
  mergeMetrics,
  type MetricsSnapshot,
  monotoneMetrics,
} from "../observe/metrics.ts";
import type { Schedule } from "../types.ts";

/** Options of {@linkcode createScrapes}. */
export interface ScrapesOptions {
  /** How long a scrape waits for the workers' metrics, ms. */
  readonly timeoutMs: number;
  /** The deadline's timer. */
  readonly schedule: Schedule;
  /** Told the workers (0-based) a scrape answered without, because they missed the deadline. */
  readonly onLate: (missing: readonly number[]) => void;
}

/** The scrapes in progress. */
export interface Scrapes {
  /** Asks `ask` of each worker in `asked`; `reply` gets the aggregate. Returns the scrape's id. */
  start(
    asked: Iterable<number>,
    ask: (index: number, id: number) => void,
    reply: (text: string) => void,
  ): number;
  /** Worker `index` answered scrape `id`. */
  collected(id: number, index: number, data: MetricsSnapshot): void;
  /** Worker `index` is gone: no scrape waits on it any more; what it counted is kept. */
  forget(index: number): void;
}

interface Scrape {
  readonly waiting: Set<number>;
  /** The answers so far, by worker. */
  readonly data: Map<number, MetricsSnapshot>;
  readonly reply: (text: string) => void;
  cancel: () => void;
}

/**
 * Creates the supervisor's scrape table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "../observe/metrics.ts";
 * import { createScrapes } from "./scrapes.ts";
 * let expire = () => {};
 * const late: number[][] = [];
 * const scrapes = createScrapes({
 *   timeoutMs: 2000,
 *   schedule: (fn) => ((expire = fn), () => {}),
 *   onLate: (missing) => late.push([...missing]),
 * });
 * const text = new Promise<string>((reply) => scrapes.start([0, 1], () => {}, reply));
 * const a = createMetrics();
 * a.recordRetry("chat", "m", "i");
 * scrapes.collected(1, 0, await a.snapshot());
 * expire(); // worker 1 never answered
 * assert.match(await text, /dairouter_retries_total\{service="chat",model="m",instance="i"\} 1/);
 * assert.deepEqual(late, [[1]]);
 * ```
 */
export function createScrapes(options: ScrapesOptions): Scrapes {
  const scrapes = new Map<number, Scrape>();
  let nextId = 1;
  /** Each worker's counters and histograms as it last reported them. */
  const last = new Map<number, MetricsSnapshot>();
  /** What the workers that are gone counted, merged (chained: a merge is asynchronous). */
  let gone: Promise<MetricsSnapshot | undefined> = Promise.resolve(undefined);

  /** Answers scrape `id` once nobody is left to wait on; a worker that missed it counts as it last did. */
  const settle = (id: number, s: Scrape, missing: readonly number[] = []) => {
    if (s.waiting.size > 0) return;
    scrapes.delete(id);
    s.cancel();
    const parts = [...s.data.values()];
    for (const i of missing) {
      const counted = last.get(i);
      if (counted !== undefined) parts.push(counted);
    }
    if (missing.length > 0) parts.push(loopLagSnapshot(options.timeoutMs));
    void gone.then((g) => aggregateMetrics(g ? [...parts, g] : parts))
      .catch(() => aggregateMetrics(parts)) // never no answer, whatever an aggregation trips on
      .then(s.reply, () => s.reply(""));
  };

  return {
    start(asked, ask, reply) {
      const id = nextId++;
      const s: Scrape = { waiting: new Set(asked), data: new Map(), reply, cancel: () => {} };
      scrapes.set(id, s);
      s.cancel = options.schedule(() => {
        if (scrapes.get(id) !== s) return;
        const missing = [...s.waiting];
        options.onLate(missing);
        s.waiting.clear();
        settle(id, s, missing);
      }, options.timeoutMs);
      for (const index of s.waiting) ask(index, id);
      settle(id, s);
      return id;
    },
    collected(id, index, data) {
      const s = scrapes.get(id);
      if (s === undefined || !s.waiting.delete(index)) return;
      s.data.set(index, data);
      last.set(index, monotoneMetrics(data));
      settle(id, s);
    },
    forget(index) {
      const counted = last.get(index);
      last.delete(index);
      if (counted !== undefined) {
        // A merge that fails keeps what was merged before: the chain never stays rejected.
        gone = gone.then((g) => mergeMetrics(g ? [g, counted] : [counted]).catch(() => g));
      }
      for (const [id, s] of scrapes) {
        // An answer it gave to a scrape still waiting on others is in `gone` now: not twice.
        s.data.delete(index);
        if (s.waiting.delete(index)) settle(id, s);
      }
    },
  };
}
