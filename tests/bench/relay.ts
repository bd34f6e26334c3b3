/**
 * The stream-relay capacity scenario (issue 12): N concurrent streams, each 100 chunks 50 ms apart
 * (20 chunks/s, `upstream.ts`), held through one target by `relay_load.ts`; N rises (doubling,
 * then bisecting, `capacity.ts`) until the added inter-chunk delay's p99 exceeds 5 ms. For each
 * target (gateway, bare Deno proxy, nginx, and the upstream directly, which shows what the load
 * generator and the upstream can hold on their own) it reports the highest N that passed, the
 * chunks/s there, and chunks/s per core: chunks/s ÷ (the target's CPU seconds per wall second).
 *
 * @module
 */

import { bounds, search, type SearchOptions } from "./capacity.ts";
import { runLoadgen } from "./load_runner.ts";
import { cpuMeter, peakRssMb, resetPeakRss } from "./proc_stats.ts";
import type { RelayLoadResult, RelaySpec } from "./relay_load.ts";

/** Chunks per relay stream (5 s at 20 chunks/s); the upstream spaces them 50 ms apart. */
export const RELAY_CHUNKS = 100;
/** A step fails when the added inter-chunk delay's p99 exceeds this (ms). */
export const ADDED_LIMIT_MS = 5;

const RELAY_LOAD = new URL("./relay_load.ts", import.meta.url).pathname;
const PATH = "/v1/chat/completions";

/** A process that relays the streams (or, for `direct`, the upstream itself). */
export interface RelayTarget {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
}

/** What one step (N streams through one target) measured. */
export interface RelayStep {
  readonly n: number;
  readonly pass: boolean;
  /** Streams in progress when the window began (all N, or the step fails). */
  readonly open: number;
  readonly chunksPerS: number;
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
  readonly pairs: number;
  readonly errors: number;
  /** CPU of the target, the upstream (when it is not the target) and the load generator, % of a core. */
  readonly cpuPct?: number;
  readonly upstreamCpuPct?: number;
  readonly loadCpuPct?: number;
  readonly peakRssMb?: number;
}

/** One target's search. */
export interface RelayRow {
  readonly target: string;
  readonly steps: readonly RelayStep[];
  /** The highest step that passed below the lowest failure, and that failure. */
  readonly best?: RelayStep;
  readonly failed?: RelayStep;
  /** Every step passed up to the cap: the capacity is at least `best.n`. */
  readonly capped: boolean;
  /** Why the target was not measured. */
  readonly note?: string;
  /**
   * Direct only: extra steps at the numbers where a proxy's search ended (its best and its first
   * failure), outside direct's own search, so each proxy has the rig's own delay at its N.
   */
  readonly reference?: readonly RelayStep[];
}

/** How the scenario runs. */
export interface RelaySettings {
  readonly loadCpu: string;
  readonly upstreamPid: number;
  readonly quick: boolean;
  /** Open files a process may hold (`ulimit -n`): a proxy needs two per stream. */
  readonly fileLimit?: number;
}

interface Phases {
  readonly search: SearchOptions;
  /** Stream starts per ms while ramping up (bounded to 250..3000 ms of ramp). */
  readonly startsPerMs: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

// Cap: 6,400 streams hold ~13k sockets in a proxy; lowered to fit `ulimit -n` (`streamCap`).
const FULL: Phases = {
  search: { start: 200, cap: 6400, resolution: 0.125, min: 25, maxSteps: 8 },
  startsPerMs: 1,
  warmupMs: 1500,
  durationMs: 3000,
};
const QUICK: Phases = {
  search: { start: 400, cap: 3200, resolution: 1, min: 50, maxSteps: 4 },
  startsPerMs: 2,
  warmupMs: 750,
  durationMs: 1500,
};

/** The search's settings for a run. */
export const relayPhases = (quick: boolean): Phases => (quick ? QUICK : FULL);

/**
 * The most streams a step may hold: the phases' cap, lowered (to a multiple of 100) so that a
 * proxy's two sockets per stream, plus some spare, fit in the open-file limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamCap } from "./relay.ts";
 * assert.equal(streamCap(6400, 20_000), 6400);
 * assert.equal(streamCap(6400, 1024), 400);
 * ```
 */
export function streamCap(cap: number, fileLimit: number | undefined): number {
  if (!fileLimit) return cap;
  return Math.max(100, Math.min(cap, Math.floor((fileLimit - 200) / 2 / 100) * 100));
}

/** `ulimit -n` of this process (children inherit it); undefined when unknown or unlimited. */
export async function openFileLimit(): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

type Meter = Awaited<ReturnType<typeof cpuMeter>>;

async function step(t: RelayTarget, n: number, s: RelaySettings): Promise<RelayStep> {
  const phases = relayPhases(s.quick);
  const rampMs = Math.min(3000, Math.max(250, n / phases.startsPerMs));
  const spec: RelaySpec = {
    port: t.port,
    path: PATH,
    streams: n,
    chunks: RELAY_CHUNKS,
    rampMs,
    warmupMs: phases.warmupMs,
    durationMs: phases.durationMs,
  };
  let meters: Array<Meter | undefined> = [];
  let used: Array<number | undefined> = [];
  let t0 = 0, wallMs = 0, peak: number | undefined;
  const pids = (load: number) => [t.pid, t.pid === s.upstreamPid ? undefined : s.upstreamPid, load];
  const r = await runLoadgen<RelayLoadResult>(RELAY_LOAD, s.loadCpu, spec, {
    onStart: async (load) => {
      await resetPeakRss(t.pid);
      meters = await Promise.all(pids(load).map((pid) => pid === undefined ? undefined : cpuMeter(pid)));
      t0 = performance.now();
    },
    onEnd: async () => {
      wallMs = performance.now() - t0;
      used = await Promise.all(meters.map((m) => m?.stop()));
      peak = await peakRssMb(t.pid);
    },
  }, rampMs + phases.warmupMs + phases.durationMs + 60_000);
  const pct = (ms: number | undefined) => ms === undefined || !wallMs ? undefined : (ms / wallMs) * 100;
  return {
    n,
    pass: r.errors === 0 && r.pairs > 0 && r.open >= n && r.addedP99Ms <= ADDED_LIMIT_MS,
    open: r.open,
    chunksPerS: (r.chunks / r.elapsedMs) * 1000,
    addedP50Ms: r.addedP50Ms,
    addedP99Ms: r.addedP99Ms,
    pairs: r.pairs,
    errors: r.errors,
    cpuPct: pct(used[0]),
    upstreamCpuPct: pct(used[1]),
    loadCpuPct: pct(used[2]),
    peakRssMb: peak,
  };
}

/** One short stream through the target: it must arrive whole with the chunks' send times intact. */
async function relayCheck(t: RelayTarget): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${t.port}${PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "bench",
        messages: [{ role: "user", content: "BENCH_RELAY_3" }],
        stream: true,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status !== 200 || !text.includes("[DONE]")) {
      return `answered ${res.status}: ${text.slice(0, 200)}`;
    }
    if (!/"id":"chatcmpl-\d+"/.test(text)) {
      return "the chunks' ids (their send times) did not survive the relay";
    }
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  }
}

/** Searches one target's capacity; a failing step is measured twice (full runs). */
async function searchTarget(t: RelayTarget, s: RelaySettings, progress: (line: string) => void) {
  const measured = async (n: number, what = "") => {
    const m = await step(t, n, s);
    progress(`relay-capacity → ${t.name}${what}: ${describeStep(m)}`);
    await new Promise((r) => setTimeout(r, 300)); // let the sockets of the step close
    return m;
  };
  const phases = relayPhases(s.quick).search;
  const steps = await search({ ...phases, cap: streamCap(phases.cap, s.fileLimit) }, async (n) => {
    const m = await measured(n);
    if (m.pass || s.quick) return m;
    // Interference (other tenants, a GC elsewhere) only ever adds delay: a failure is confirmed
    // once, and the better of the two counts.
    const again = await measured(n, " (again)");
    return again.pass || again.addedP99Ms < m.addedP99Ms ? again : m;
  });
  const { pass, fail } = bounds(steps);
  const best = steps.find((m) => m.n === pass);
  const failed = steps.find((m) => m.n === fail);
  return { target: t.name, steps, best, failed, capped: !failed && best !== undefined, measured };
}

/**
 * Searches each target's capacity in turn (direct last), then measures direct at the numbers where
 * the proxies' searches ended that its own search did not visit; `progress` gets a line per step.
 */
export async function relayCapacity(
  targets: readonly RelayTarget[],
  s: RelaySettings,
  progress: (line: string) => void,
): Promise<RelayRow[]> {
  const rows: RelayRow[] = [];
  let direct: Awaited<ReturnType<typeof searchTarget>> | undefined;
  for (const t of targets) {
    const problem = await relayCheck(t);
    if (problem) rows.push({ target: t.name, steps: [], capped: false, note: `not measured: ${problem}` });
    else {
      const { measured, ...row } = await searchTarget(t, s, progress);
      if (t.name === "direct") direct = { measured, ...row };
      rows.push(row);
    }
  }
  if (!direct) return rows;
  const seen = new Set(direct.steps.map((m) => m.n));
  const wanted = rows.flatMap((r) => [r.best, r.failed].flatMap((m) => (m && !seen.has(m.n) ? [m.n] : [])));
  const reference: RelayStep[] = [];
  for (const n of [...new Set(wanted)].sort((a, b) => a - b)) {
    reference.push(await direct.measured(n, " (reference)"));
  }
  return rows.map((r) => (r.target === "direct" ? { ...r, reference } : r));
}

/** Direct's step at `n` (from its search or its reference steps), if it was measured. */
export function directAt(rows: readonly RelayRow[], n: number | undefined): RelayStep | undefined {
  const d = rows.find((r) => r.target === "direct");
  return n === undefined ? undefined : [...(d?.steps ?? []), ...(d?.reference ?? [])].find((m) => m.n === n);
}

/**
 * A proxy's failure that the rig's own delay explains: at that N it had no errors, and its added
 * p99 minus direct's (the load generator and upstream alone) stays within the limit. Its max streams is then a lower
 * bound, set by the rig rather than by the proxy.
 */
export function rigBound(row: RelayRow, rows: readonly RelayRow[]): boolean {
  const f = row.failed;
  if (row.target === "direct" || !f || f.errors > 0 || f.open < f.n) return false;
  const d = directAt(rows, f.n);
  return d !== undefined && f.addedP99Ms - d.addedP99Ms <= ADDED_LIMIT_MS;
}

const fixed = (v: number | undefined, digits = 0) =>
  v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(digits);

/** One step in a line: streams, added p99, chunks/s, CPU of each process, verdict. */
export function describeStep(m: RelayStep): string {
  return `${m.n} streams: added p99 ${fixed(m.addedP99Ms, 2)} ms, ${fixed(m.chunksPerS)} chunks/s, ` +
    `CPU target ${fixed(m.cpuPct)} % / upstream ${fixed(m.upstreamCpuPct)} % / load ${
      fixed(m.loadCpuPct)
    } %` +
    `${m.errors ? `, ${m.errors} errors` : ""}${m.open < m.n ? `, only ${m.open} open` : ""} — ` +
    (m.pass ? "pass" : "fail");
}
