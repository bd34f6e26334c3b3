/**
 * Load-aware balancing across the cluster: every `state.share-interval` each process reports its
 * own in-flight count and latency/error EWMAs per instance, and receives the sum (in flight) and
 * means (latency, errors) of what the *other* processes reported — through Redis for replicas,
 * through the main thread for the workers of one host. The answer lands in each instance's
 * `stats.peers`, which least-connections and least-latency read beside the process's own counts;
 * the strategies stay pure and never wait on anything.
 *
 * Staleness: a change made on one process is published at its next exchange (≤ 1 interval) and
 * read by another at its next one (≤ 1 interval more), so what a strategy sees of the others is
 * at most about two intervals (plus one round trip) old. When an exchange fails, the instances
 * lose their `peers` until one succeeds: this process's own view is better than an old one.
 *
 * @module
 */

import type { PeerLoad, Schedule, UpstreamStats } from "../types.ts";

/** One instance as this process reports it: id, in flight, latency EWMA (ms), error EWMA. */
export type LoadReport = readonly [id: string, inFlight: number, latencyEwmaMs: number, errorEwma: number];

/** One instance as the others report it: id, in flight (sum), latency and error (means), sampled. */
export type PeerReport = readonly [
  id: string,
  inFlight: number,
  latencyEwmaMs: number,
  errorEwma: number,
  sampled: number,
];

/** Sends this process's reports and answers the others' (Redis, or the main thread). */
export type LoadExchange = (reports: readonly LoadReport[]) => Promise<readonly PeerReport[]>;

/**
 * How old a process's report may be before it is dropped (it stopped, or cannot reach the
 * others): five intervals, at least a second.
 */
export function staleAfterMs(intervalMs: number): number {
  return Math.max(1000, 5 * intervalMs);
}

/** Options of {@linkcode startLoadShare}. */
export interface LoadShareOptions {
  /** `state.share-interval`, ms. */
  readonly intervalMs: number;
  readonly schedule: Schedule;
  /** Every live instance: its id and its stats (the newest runtime's). */
  readonly instances: () => Iterable<{ readonly id: string; readonly stats: UpstreamStats }>;
  readonly exchange: LoadExchange;
}

/**
 * What the other processes report, per instance: in flight summed; latency and error EWMAs
 * averaged over the processes that have a latency sample.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aggregatePeers } from "./load_share.ts";
 * const peers = aggregatePeers([[["a", 2, 100, 0]], [["a", 1, 0, 0]], [["a", 0, 300, 0.5]]]);
 * assert.deepEqual(peers, [["a", 3, 200, 0.25, 2]]);
 * ```
 */
export function aggregatePeers(views: Iterable<readonly LoadReport[]>): PeerReport[] {
  const by = new Map<string, [number, number, number, number]>();
  for (const view of views) {
    for (const [id, inFlight, latency, errors] of view) {
      let a = by.get(id);
      if (a === undefined) by.set(id, a = [0, 0, 0, 0]);
      a[0] += inFlight;
      if (latency > 0) {
        a[1] += latency;
        a[2] += errors;
        a[3]++;
      }
    }
  }
  return Array.from(
    by,
    ([id, [inFlight, lat, err, n]]) => [id, inFlight, n ? lat / n : 0, n ? err / n : 0, n],
  );
}

/** Puts the others' reports on the stats of the instances they name; clears the rest. */
export function applyPeers(
  instances: Iterable<{ readonly id: string; readonly stats: UpstreamStats }>,
  reports: readonly PeerReport[] | undefined,
): void {
  const byId = new Map<string, PeerLoad>();
  for (const [id, inFlight, latencyEwmaMs, errorEwma, sampled] of reports ?? []) {
    byId.set(id, { inFlight, latencyEwmaMs, errorEwma, sampled });
  }
  for (const u of instances) u.stats.peers = byId.get(u.id);
}

/**
 * Exchanges loads every `intervalMs` (the next exchange is scheduled when the last one ended, so
 * a slow answer never piles calls up); returns a function that stops it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startLoadShare } from "./load_share.ts";
 * import type { UpstreamStats } from "../types.ts";
 * const stats: UpstreamStats = { inFlight: 2, latencyEwmaMs: 0, errorEwma: 0 };
 * const a = { id: "a", stats };
 * let tick = () => {};
 * const stop = startLoadShare({
 *   intervalMs: 100,
 *   schedule: (fn) => ((tick = fn), () => {}),
 *   instances: () => [a],
 *   exchange: (mine) => Promise.resolve([[mine[0][0], 5, 0, 0, 0]]),
 * });
 * tick();
 * await new Promise((r) => setTimeout(r, 0));
 * assert.equal(a.stats.peers?.inFlight, 5);
 * stop();
 * ```
 */
export function startLoadShare(options: LoadShareOptions): () => void {
  const { intervalMs, schedule, instances, exchange } = options;
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
    throw new RangeError(`Cannot share load: "intervalMs" must be > 0, received ${intervalMs}`);
  }
  let stopped = false;
  let cancel = () => {};
  const tick = async () => {
    const reports: LoadReport[] = [];
    for (const u of instances()) {
      reports.push([u.id, u.stats.inFlight, u.stats.latencyEwmaMs, u.stats.errorEwma]);
    }
    let answer: readonly PeerReport[] | undefined;
    try {
      answer = await exchange(reports);
    } catch {
      answer = undefined;
    }
    if (stopped) return;
    applyPeers(instances(), answer);
    cancel = schedule(() => void tick(), intervalMs);
  };
  cancel = schedule(() => void tick(), intervalMs);
  return () => {
    stopped = true;
    cancel();
  };
}
