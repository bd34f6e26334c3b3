/**
 * `deno task bench routing`: the routing simulation. A discrete-event simulation in virtual time
 * (`virtual_time.ts`) of the gateway's real strategies and admission queue (`sim_gateway.ts`) in
 * front of a heterogeneous pool of modelled engines (`tests/fakes/engine_sim.ts`), under a
 * multi-turn chat workload (`workload.ts`). Deterministic: the numbers depend on the seed alone,
 * never on the machine or its load, and the whole run takes seconds of CPU.
 *
 * Scenarios:
 * 1. every strategy on the same sessions, on the heterogeneous pool (one engine 3× slower, on a
 *    GPU with a third of the memory), at a load the pool carries;
 * 2. sensitivity: least-load's and prefix-affinity's p95 against least-connections' at three
 *    loads, on that pool and on one whose slow engine has as much memory as the others;
 * 3. an overload (1.6× the sessions): without and with the admission queue — how deep the slow
 *    engine's own queue gets, and how deep the gateway's.
 *
 * @module
 */

import type { StrategyName } from "../../../src/types.ts";
import { type InstanceSpec, SimGateway, type SimGatewayOptions, type SimResult } from "./sim_gateway.ts";
import { VirtualTime } from "./virtual_time.ts";
import { messagesOf, type Session, sessions, type WorkloadOptions } from "./workload.ts";

const HELP = `deno task bench routing [--seed N] [--quick] [--markdown FILE]

  --seed N         workload and tie-break seed (default 1)
  --quick          a 3-minute virtual run instead of 10 (a smoke test)
  --markdown FILE  also write the tables to FILE`;

/**
 * The pool: three engines at the reference speed and one three times slower — an older GPU, with
 * a third of the memory (KV cache and prefix cache).
 */
export const POOL: readonly InstanceSpec[] = [
  { speed: 1 },
  { speed: 1 },
  { speed: 1 },
  { speed: 3, engine: { kvCapacityTokens: 16_000, prefixCacheBlocks: 1000 } },
];

/** The same pool, but the slow engine has as much memory as the others (only its speed differs). */
export const POOL_EQUAL_MEMORY: readonly InstanceSpec[] = [{ speed: 1 }, { speed: 1 }, { speed: 1 }, {
  speed: 3,
}];

/** The engines' model: a mid-size model on one GPU each. */
export const ENGINE: SimGatewayOptions["engine"] = {
  maxBatch: 16,
  kvCapacityTokens: 48_000,
  prefillMsPerToken: 0.25,
  decodeMsPerToken: 25,
  batchSlowdown: 0.02,
  blockChars: 64,
  prefixCacheBlocks: 3000,
};

/** The workload (see `workload.ts`). */
export function workload(seed: number, durationS: number, load = 1): WorkloadOptions {
  return {
    seed,
    durationS,
    sessionsPerS: 1.2 * load,
    systemPrompts: 4,
    systemChars: 2000,
    turns: [3, 10],
    userChars: [200, 1200],
    replyTokens: [32, 256],
    thinkMeanS: 4,
  };
}

/** The admission queue of the overload scenario. */
const QUEUE = { maxSize: 1000, maxWaitMs: 120_000, maxEngineQueue: 2 };

/** The overloads of the queue scenario, as multiples of the workload's sessions. */
const OVERLOADS = [1.6, 2.4] as const;

const SCRAPE = { intervalMs: 1000, staleAfterMs: 3000, lagMs: 20 };
const STRATEGIES: StrategyName[] = [
  "round-robin",
  "least-connections",
  "least-latency",
  "least-load",
  "prefix-affinity",
];

/** What one run measured (requests sent after the warm-up). */
export interface RunStats {
  readonly label: string;
  readonly requests: number;
  readonly p50: number;
  readonly p95: number;
  readonly reqPerS: number;
  readonly tokPerS: number;
  readonly prefixHit: number;
  readonly slowQueueMax: number;
  readonly slowQueueP95: number;
  readonly gatewayQueueMax: number;
  readonly waitP95: number;
  readonly refused: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Runs one configuration over the sessions, to the end of the last one. */
export function runOnce(
  label: string,
  options: Omit<SimGatewayOptions, "engine" | "scrape" | "instances"> & {
    instances?: readonly InstanceSpec[];
  },
  all: readonly Session[],
  window: { fromMs: number; toMs: number },
): RunStats {
  const time = new VirtualTime();
  const gw = new SimGateway(time, { engine: ENGINE, scrape: SCRAPE, instances: POOL, ...options });
  const results: SimResult[] = [];
  const turn = (s: Session, k: number) => {
    gw.send({ user: s.id, messages: messagesOf(s, k), maxTokens: s.replyTokens[k] }, (r) => {
      results.push(r);
      // The user reads the answer, then asks again (a refused turn ends the session).
      if (r.outcome === "ok" && k + 1 < s.questions.length) {
        time.schedule(() => turn(s, k + 1), s.thinkMs[k + 1]);
      }
    });
  };
  for (const s of all) time.schedule(() => turn(s, 0), s.startMs);
  // Runs to the end of the last session (the scraper's tick would go on forever).
  let last = 0;
  const total = all.reduce((n, s) => n + s.questions.length, 0);
  while (results.length < total && results.length >= last) {
    last = results.length;
    time.run(time.now() + 60_000);
    if (results.length === last && time.now() > window.toMs + 3_600_000) break;
  }
  const measured = results.filter((r) => r.sentAt >= window.fromMs && r.sentAt < window.toMs);
  const ok = measured.filter((r) => r.outcome === "ok");
  const ttft = ok.map((r) => r.ttftMs!).sort((a, b) => a - b);
  const waits = measured.map((r) => r.queuedMs).sort((a, b) => a - b);
  const spanS = (window.toMs - window.fromMs) / 1000;
  const engines = gw.instances.map((u) => u.engine);
  const slow = gw.instances.findIndex((u) => u.id.includes("slow"));
  const slowQueue = gw.engineQueueSamples[slow].slice().sort((a, b) => a - b);
  const hits = engines.reduce((n, e) => n + e.prefixHitTokens, 0);
  const queried = engines.reduce((n, e) => n + e.prefixQueriedTokens, 0);
  return {
    label,
    requests: measured.length,
    p50: quantile(ttft, 0.5),
    p95: quantile(ttft, 0.95),
    reqPerS: ok.length / spanS,
    tokPerS: ok.reduce((n, r) => n + r.tokens, 0) / spanS,
    prefixHit: hits / queried,
    slowQueueMax: slowQueue.at(-1) ?? 0,
    slowQueueP95: quantile(slowQueue, 0.95),
    gatewayQueueMax: Math.max(0, ...gw.depthSamples),
    waitP95: quantile(waits, 0.95),
    refused: measured.length - ok.length,
  };
}

const ms = (
  v: number,
) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v).toLocaleString("en")} ms`);

function strategyTable(rows: readonly RunStats[]): string {
  const lines = [
    "| strategy | TTFT p50 | TTFT p95 | p95 vs least-connections | requests/s | output tokens/s | prefix-cache hits | slow engine's queue (p95 / max) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const base = rows.find((r) => r.label === "least-connections")!;
  for (const r of rows) {
    lines.push(
      `| ${r.label} | ${ms(r.p50)} | ${ms(r.p95)} | ${(r.p95 / base.p95).toFixed(2)}× | ${
        r.reqPerS.toFixed(2)
      } | ${Math.round(r.tokPerS).toLocaleString("en")} | ${
        (100 * r.prefixHit).toFixed(0)
      } % | ${r.slowQueueP95} / ${r.slowQueueMax} |`,
    );
  }
  return lines.join("\n");
}

function queueTable(rows: readonly RunStats[]): string {
  const lines = [
    "| overload (× sessions) | TTFT p50 | TTFT p95 | requests/s | slow engine's queue (p95 / max) | gateway queue (max) | gateway wait p95 | refused (429/503) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.label} | ${ms(r.p50)} | ${ms(r.p95)} | ${
        r.reqPerS.toFixed(2)
      } | ${r.slowQueueP95} / ${r.slowQueueMax} | ${r.gatewayQueueMax} | ${ms(r.waitP95)} | ${r.refused} |`,
    );
  }
  return lines.join("\n");
}

function sensitivityTable(
  rows: readonly { pool: string; load: number; lc: number; ll: number; pa: number }[],
): string {
  const lines = [
    "| pool | load | least-connections p95 | least-load p95 | prefix-affinity p95 |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.pool} | ${r.load}× | ${ms(r.lc)} | ${ms(r.ll)} (${(r.ll / r.lc).toFixed(2)}×) | ${ms(r.pa)} (${
        (r.pa / r.lc).toFixed(2)
      }×) |`,
    );
  }
  return lines.join("\n");
}

/** Checks the goals against the tables. */
function goals(rows: readonly RunStats[], queue: readonly RunStats[]): string[] {
  const by = (l: string) => rows.find((r) => r.label === l)!;
  const lc = by("least-connections").p95;
  const pa = by("prefix-affinity").p95 / lc;
  const ll = by("least-load").p95 / lc;
  const most = (gated: boolean, load: number) =>
    Math.max(
      ...queue.filter((r) => r.label.startsWith(`${load}×`) && r.label.includes("+ queue") === gated)
        .map((r) => r.slowQueueMax),
    );
  const [lo, hi] = OVERLOADS;
  // The gate decides on reports up to one scrape interval old: a few requests may slip past it
  // before the next report; "bounded" = within a few of max-engine-queue at any load, where
  // without the queue it grows with the load.
  const cap = 2 * QUEUE.maxEngineQueue + 2;
  const bounded = OVERLOADS.every((l) => most(true, l) <= cap && most(true, l) * 4 <= most(false, l));
  return [
    `prefix-affinity p95 TTFT = ${pa.toFixed(2)}× least-connections (goal ≤ 0.6): ${
      pa <= 0.6 ? "met" : "NOT met"
    }`,
    `least-load p95 TTFT = ${ll.toFixed(2)}× least-connections (goal ≤ 0.8): ${
      ll <= 0.8 ? "met" : "NOT met"
    }`,
    `slow engine's own queue with the admission queue: at most ${most(true, lo)} at ${lo}× and ${
      most(true, hi)
    } at ${hi}× the load; without: ${most(false, lo)} and ${most(false, hi)} (goal: bounded, ≤ ${cap}): ${
      bounded ? "met" : "NOT met"
    }`,
  ];
}

/** Runs the scenarios and returns the report (Markdown). */
export function routingReport(seed: number, quick: boolean): string {
  const durationS = quick ? 180 : 600;
  const window = { fromMs: 60_000, toMs: durationS * 1000 };
  const base = sessions(workload(seed, durationS));
  const rows = STRATEGIES.map((s) => runOnce(s, { strategy: s, seed }, base, window));
  const sensitivity = [];
  for (
    const [pool, instances] of [["slow GPU, ⅓ memory", POOL], [
      "slow GPU, same memory",
      POOL_EQUAL_MEMORY,
    ]] as const
  ) {
    for (const load of [0.75, 1, 1.25]) {
      const s = load === 1 && instances === POOL ? base : sessions(workload(seed, durationS, load));
      const p95 = (strategy: StrategyName) =>
        load === 1 && instances === POOL
          ? rows.find((r) => r.label === strategy)!.p95
          : runOnce(strategy, { strategy, seed, instances }, s, window).p95;
      sensitivity.push({
        pool,
        load,
        lc: p95("least-connections"),
        ll: p95("least-load"),
        pa: p95("prefix-affinity"),
      });
    }
  }
  const queue = QUEUE;
  const queueRows: RunStats[] = [];
  for (const load of OVERLOADS) {
    const heavy = sessions(workload(seed, durationS, load));
    for (const strategy of ["least-connections", "least-load"] as const) {
      queueRows.push(runOnce(`${load}×: ${strategy}, no queue`, { strategy, seed }, heavy, window));
      queueRows.push(
        runOnce(
          `${load}×: ${strategy} + queue (max-engine-queue 2)`,
          { strategy, seed, queue },
          heavy,
          window,
        ),
      );
    }
  }
  const w = workload(seed, durationS);
  const turns = base.reduce((n, s) => n + s.questions.length, 0);
  return [
    `Seed ${seed}, ${
      durationS / 60
    } virtual minutes (the first minute is warm-up, not counted), ${base.length} sessions, ${turns} requests.`,
    `Pool: ${POOL.length} engines, speeds ${
      POOL.map((p) => p.speed).join(", ")
    } (batch ${ENGINE.maxBatch}, KV ${ENGINE.kvCapacityTokens} tokens, prefill ${ENGINE.prefillMsPerToken} ms/token, decode ${ENGINE.decodeMsPerToken} ms/token at the reference speed).`,
    `Workload: ${w.sessionsPerS} sessions/s, ${w.turns[0]}–${
      w.turns[1]
    } turns, ${w.systemPrompts} shared system prompts of ${w.systemChars} characters, questions of ${
      w.userChars[0]
    }–${w.userChars[1]} characters, answers of ${w.replyTokens[0]}–${
      w.replyTokens[1]
    } tokens, ${w.thinkMeanS} s think time.`,
    "",
    strategyTable(rows),
    "",
    sensitivityTable(sensitivity),
    "",
    queueTable(queueRows),
    "",
    ...goals(rows, queueRows).map((g) => `- ${g}`),
  ].join("\n");
}

function parse(args: readonly string[]): { seed: number; quick: boolean; markdown?: string } | undefined {
  const o: { seed: number; quick: boolean; markdown?: string } = { seed: 1, quick: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--help" || a === "-h") return undefined;
    else if (a === "--quick") o.quick = true;
    else if (a === "--seed") {
      o.seed = Number(args[++i]);
      if (!Number.isSafeInteger(o.seed) || o.seed < 0) {
        throw new RangeError(`--seed must be an integer >= 0, received ${args[i]}`);
      }
    } else if (a === "--markdown") o.markdown = args[++i];
    else throw new RangeError(`unknown option ${a}`);
  }
  return o;
}

/** Entry point (`tests/bench/run.ts routing …`). */
export async function main(args: readonly string[]): Promise<number> {
  let o;
  try {
    o = parse(args);
  } catch (error) {
    console.error(`bench routing: ${(error as Error).message}`);
    return 2;
  }
  if (o === undefined) return (console.log(HELP), 0);
  const started = performance.now();
  const report = routingReport(o.seed, o.quick);
  console.log(report);
  console.log(`\n(simulated in ${((performance.now() - started) / 1000).toFixed(1)} s of CPU)`);
  if (o.markdown) await Deno.writeTextFile(o.markdown, `${report}\n`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
