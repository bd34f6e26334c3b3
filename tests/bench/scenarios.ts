/**
 * How one scenario is measured against one target (the upstream directly, the gateway, or the bare
 * baseline proxy): warm-up, then a measured window during which the target's CPU time and peak RSS
 * are read from `/proc`.
 *
 * @module
 */

import type { LoadResult, LoadSpec } from "./loadgen.ts";
import { cpuMeter, peakRssMb, resetPeakRss, rssMb, stealMeter } from "./proc_stats.ts";
import { type LoadHooks, runLoadgen as runDenoLoad } from "./load_runner.ts";
import type { Measurement } from "./measurement.ts";
import type { Scenario } from "./scenario_list.ts";
import { runWrk } from "./wrk.ts";

/** Where the load goes and which process serves it. */
export interface Target {
  readonly name: Measurement["target"];
  readonly base: string;
  readonly pid: number;
}

/** How to run the load. */
export interface RunSettings {
  readonly useWrk: boolean;
  /** Core of the load generator (taskset syntax). */
  readonly loadCpu: string;
  readonly warmupS: number;
  readonly durationS: number;
  /** How long the open streams are held. */
  readonly holdS: number;
  readonly soakS: number;
}

const LOADGEN = new URL("./loadgen.ts", import.meta.url).pathname;

function runLoadgen(cpu: string, spec: LoadSpec, hooks: LoadHooks): Promise<LoadResult> {
  return runDenoLoad<LoadResult>(LOADGEN, cpu, spec, hooks, spec.warmupMs + spec.durationMs + 90_000);
}

/** Unmeasured load (JIT, GC heuristics and connection pools reach their steady state). */
export async function warmUp(s: Scenario, t: Target, run: RunSettings, seconds: number): Promise<void> {
  if (run.useWrk) await runWrk(run.loadCpu, t.base + s.path, s.body, s.concurrency, seconds);
  else {
    await runLoadgen(run.loadCpu, {
      mode: "closed",
      url: t.base + s.path,
      body: s.body,
      concurrency: s.concurrency,
      warmupMs: seconds * 1000,
      durationMs: 0,
    }, {});
  }
}

/** Measures one scenario against one target, noting the CPU steal while it ran. */
export async function measure(s: Scenario, t: Target, run: RunSettings): Promise<Measurement> {
  const steal = await stealMeter();
  const m = await measureOnce(s, t, run);
  return { ...m, stealPct: await steal.stop() };
}

async function measureOnce(s: Scenario, t: Target, run: RunSettings): Promise<Measurement> {
  const url = t.base + s.path;
  if (s.kind === "relay") throw new TypeError("relay-capacity is measured by relay.ts");
  if (s.kind === "hold") return await measureHold(s, t, run, url);
  if (s.kind === "soak") return await measureSoak(s, t, run, url);
  const head = { scenario: s.id, label: s.label, target: t.name, kind: s.kind, compare: s.compare };

  let cpu: { stop(): Promise<number | undefined> } | undefined;
  let cpuUsed: number | undefined, peak: number | undefined;
  const start = async () => {
    await resetPeakRss(t.pid);
    cpu = await cpuMeter(t.pid);
  };
  const end = async () => {
    cpuUsed = await cpu?.stop();
    peak = await peakRssMb(t.pid);
  };
  let r: Omit<LoadResult, "event">;
  if (s.kind === "requests" && run.useWrk) {
    await runWrk(run.loadCpu, url, s.body, s.concurrency, run.warmupS);
    await start();
    r = await runWrk(run.loadCpu, url, s.body, s.concurrency, run.durationS);
    await end();
  } else {
    r = await runLoadgen(run.loadCpu, {
      mode: s.kind === "stream" ? "stream" : "closed",
      url,
      body: s.body,
      concurrency: s.concurrency,
      warmupMs: run.warmupS * 1000,
      durationMs: run.durationS * 1000,
      endMarker: s.expect,
    }, { onStart: start, onEnd: end });
  }
  return {
    ...head,
    requests: r.requests,
    errors: r.errors,
    rps: (r.requests / r.elapsedMs) * 1000,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    cpuUsPerRequest: cpuUsed === undefined || r.requests === 0 ? undefined : (cpuUsed * 1000) / r.requests,
    peakRssMb: peak,
    ttfbP50Ms: r.ttfbP50Ms,
    readsP50: r.readsP50,
    maxGapP99Ms: r.maxGapP99Ms,
  };
}

/** The gateway's JS heap (used, reserved; MB) from its own `/metrics`. */
async function gatewayHeapMb(base: string): Promise<{ used?: number; total?: number }> {
  try {
    const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const mb = (name: string) => {
      const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
      return m ? Number(m[1]) / 1e6 : undefined;
    };
    return { used: mb("dairouter_js_heap_used_bytes"), total: mb("dairouter_js_heap_total_bytes") };
  } catch {
    return {};
  }
}

async function measureHold(s: Scenario, t: Target, run: RunSettings, url: string): Promise<Measurement> {
  await resetPeakRss(t.pid);
  const before = await rssMb(t.pid);
  let peak: number | undefined, holding: number | undefined;
  let heap: { used?: number; total?: number } = {};
  const r = await runLoadgen(run.loadCpu, {
    mode: "hold",
    url,
    body: s.body,
    concurrency: s.concurrency,
    warmupMs: 0,
    durationMs: run.holdS * 1000,
  }, {
    onEnd: async () => {
      peak = await peakRssMb(t.pid);
      holding = await rssMb(t.pid);
      if (t.name.startsWith("gateway")) heap = await gatewayHeapMb(t.base);
    },
  });
  return {
    scenario: s.id,
    label: s.label,
    target: t.name,
    kind: "hold",
    requests: r.requests,
    errors: r.errors,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    peakRssMb: peak,
    rssBeforeMb: before,
    rssHoldingMb: holding,
    heapUsedMb: heap.used,
    heapTotalMb: heap.total,
    open: r.open,
  };
}

/** A long closed-loop run; RSS sampled every 10 s, the first sample after a tenth of the run. */
async function measureSoak(s: Scenario, t: Target, run: RunSettings, url: string): Promise<Measurement> {
  const samples: Array<[number, number]> = [];
  const t0 = Date.now();
  const timer = setInterval(async () => {
    const v = await rssMb(t.pid);
    if (v !== undefined) samples.push([Date.now() - t0, v]);
  }, 10_000);
  await resetPeakRss(t.pid);
  const cpu = await cpuMeter(t.pid);
  let r: Omit<LoadResult, "event">;
  try {
    r = run.useWrk
      ? await runWrk(run.loadCpu, url, s.body, s.concurrency, run.soakS)
      : await runLoadgen(run.loadCpu, {
        mode: "closed",
        url,
        body: s.body,
        concurrency: s.concurrency,
        warmupMs: 0,
        durationMs: run.soakS * 1000,
      }, {});
  } finally {
    clearInterval(timer);
  }
  const used = await cpu.stop();
  const warm = samples.find(([at]) => at >= run.soakS * 100) ?? samples[0];
  const last = samples.at(-1) ?? warm;
  return {
    scenario: s.id,
    label: s.label,
    target: t.name,
    kind: "soak",
    requests: r.requests,
    errors: r.errors,
    rps: (r.requests / r.elapsedMs) * 1000,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    cpuUsPerRequest: used === undefined || !r.requests ? undefined : (used * 1000) / r.requests,
    peakRssMb: await peakRssMb(t.pid),
    rssStartMb: warm?.[1],
    rssEndMb: last?.[1],
  };
}
