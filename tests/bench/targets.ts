/**
 * The performance targets the bench checks, each against a reference measured in the same run:
 * issue 12's against the bare Deno proxy (`baseline_proxy.ts`, whose `fetch` → `new
 * Response(upstream.body)` is Deno's native pipe of the same body), issue 13's (limits in Redis,
 * two workers) against the plain gateway, issue 15's (client dialects) against plain OpenAI chat.
 * A target whose scenarios did not run is left out.
 *
 * @module
 */

import { cpuPerChunk, find, type Measurement } from "./measurement.ts";
import type { RelayRow } from "./relay.ts";
import { chunksPerCore, maxStreams } from "./relay_table.ts";
import { alignedTable, num, signed } from "./table.ts";

/** One line of the targets table. */
export interface TargetLine {
  readonly target: string;
  readonly measured: string;
  readonly verdict: "met" | "not met" | "reported";
}

/** A functional check made during the run (e.g. usage accounting on streams still works). */
export interface FeatureCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Everything the targets are checked against. */
export interface TargetInputs {
  readonly rows: readonly Measurement[];
  readonly relay?: readonly RelayRow[];
  readonly checks?: readonly FeatureCheck[];
}

const BARE = "deno proxy";
const verdict = (ok: boolean): TargetLine["verdict"] => (ok ? "met" : "not met");
type Check = (rows: readonly Measurement[]) => TargetLine[];

const chat64: Check = (rows) => {
  const g = find(rows, "chat-c64", "gateway"), b = find(rows, "chat-c64", BARE);
  const out: TargetLine[] = [];
  if (g?.rps && b?.rps) {
    const r = g.rps / b.rps;
    out.push({
      target: "chat c=64 req/s ≥ 0.85× bare proxy",
      measured: `${num(g.rps, 0)} vs ${num(b.rps, 0)} req/s: ${num(r, 2)}×`,
      verdict: verdict(r >= 0.85),
    });
  }
  if (g?.cpuUsPerRequest && b?.cpuUsPerRequest) {
    const r = g.cpuUsPerRequest / b.cpuUsPerRequest;
    out.push({
      target: "chat c=64 CPU per request ≤ 1.3× bare proxy",
      measured: `${num(g.cpuUsPerRequest, 0)} vs ${num(b.cpuUsPerRequest, 0)} µs: ${num(r, 2)}×`,
      verdict: verdict(r <= 1.3),
    });
  }
  return out;
};

const chat16: Check = (rows) => {
  const g = find(rows, "chat-c16", "gateway"), b = find(rows, "chat-c16", BARE);
  if (g?.p99Ms === undefined || b?.p99Ms === undefined) return [];
  const d = g.p99Ms - b.p99Ms;
  return [{
    target: "chat c=16 p99 ≤ bare proxy + 2 ms",
    measured: `${num(g.p99Ms, 2)} vs ${num(b.p99Ms, 2)} ms: ${signed(d)} ms`,
    verdict: verdict(d <= 2),
  }];
};

const stream32: Check = (rows) => {
  const g = find(rows, "stream-c32", "gateway"), b = find(rows, "stream-c32", BARE);
  const d = find(rows, "stream-c32", "direct");
  const out: TargetLine[] = [];
  const gc = cpuPerChunk(g), bc = cpuPerChunk(b);
  if (gc !== undefined && bc) {
    out.push({
      target: "stream c=32 CPU per relayed chunk ≤ 1.3× native pipe (bare proxy)",
      measured: `${num(gc, 1)} vs ${num(bc, 1)} µs/chunk (stream CPU ÷ 50 chunks): ${num(gc / bc, 2)}×`,
      verdict: verdict(gc / bc <= 1.3),
    });
  }
  if (g?.ttfbP50Ms !== undefined && b?.ttfbP50Ms !== undefined) {
    const diff = g.ttfbP50Ms - b.ttfbP50Ms;
    const over = (m: Measurement) => signed(m.ttfbP50Ms! - d!.ttfbP50Ms!);
    out.push({
      target: "stream c=32 added TTFB p50 ≤ bare proxy's + 0.3 ms",
      measured: d?.ttfbP50Ms !== undefined
        ? `${over(g)} vs ${over(b)} ms over direct: ${signed(diff)} ms`
        : `TTFB ${num(g.ttfbP50Ms, 2)} vs ${num(b.ttfbP50Ms, 2)} ms: ${signed(diff)} ms`,
      verdict: verdict(diff <= 0.3),
    });
  }
  return out;
};

const memory: Check = (rows) => {
  const out: TargetLine[] = [];
  const pairs = rows
    .filter((m) => m.target === "gateway" && (m.kind === "requests" || m.kind === "stream"))
    .map((g) => [g, find(rows, g.scenario, BARE)] as const)
    .filter(([g, b]) => g.peakRssMb !== undefined && b?.peakRssMb !== undefined)
    .map(([g, b]) => ({
      label: g.label,
      g: g.peakRssMb!,
      b: b!.peakRssMb!,
      d: g.peakRssMb! - b!.peakRssMb!,
    }));
  if (pairs.length) {
    const worst = pairs.reduce((a, p) => (p.d > a.d ? p : a));
    out.push({
      target: "peak RSS under load ≤ bare proxy + 50 MB (each window)",
      measured: pairs.map((p) => `${p.label} ${num(p.g, 0)} vs ${num(p.b, 0)} MB (${signed(p.d, 0)})`).join(
        "; ",
      ),
      verdict: verdict(worst.d <= 50),
    });
  }
  const hold = find(rows, "streams-1000", "gateway");
  if (hold?.peakRssMb !== undefined) {
    const b = find(rows, "streams-1000", BARE);
    out.push({
      target: "1,000 open streams: peak RSS ≤ 250 MB",
      measured: `${num(hold.peakRssMb, 1)} MB, ${hold.open} open, ${hold.errors} errors` +
        (b?.peakRssMb !== undefined ? ` (bare proxy ${num(b.peakRssMb, 1)} MB)` : ""),
      verdict: verdict(hold.peakRssMb <= 250 && hold.errors === 0 && (hold.open ?? 0) >= 1000),
    });
  }
  const soak = rows.find((m) => m.kind === "soak");
  if (soak?.rssStartMb && soak.rssEndMb) {
    const growth = ((soak.rssEndMb - soak.rssStartMb) / soak.rssStartMb) * 100;
    out.push({
      target: "RSS flat over the soak (≤ 10 % growth after warm-up)",
      measured: `${num(soak.rssStartMb, 1)} → ${num(soak.rssEndMb, 1)} MB (${signed(growth, 1)} %), ` +
        `${num(soak.requests, 0)} requests, ${soak.errors} errors`,
      verdict: verdict(growth <= 10 && soak.errors === 0),
    });
  }
  return out;
};

const variants: Check = (rows) => {
  const out: TargetLine[] = [];
  const g = find(rows, "chat-c64-redis", "gateway"), r = find(rows, "chat-c64-redis", "gateway redis");
  if (g?.rps && r?.rps) {
    const ratio = r.rps / g.rps, d = r.p50Ms! - g.p50Ms!;
    out.push({
      target: "limits in Redis: ≥ 0.8× req/s of in-memory (c=64)",
      measured: `${num(r.rps, 0)} vs ${num(g.rps, 0)} req/s: ${num(ratio, 2)}×`,
      verdict: verdict(ratio >= 0.8),
    }, {
      target: "limits in Redis: p50 ≤ in-memory + 1 ms (c=64)",
      measured: `${num(r.p50Ms, 2)} vs ${num(g.p50Ms, 2)} ms: ${signed(d)} ms`,
      verdict: verdict(d <= 1),
    });
  }
  const one = find(rows, "chat-c64-workers", "gateway"),
    two = find(rows, "chat-c64-workers", "gateway workers=2");
  if (one?.rps && two?.rps) {
    const ratio = two.rps / one.rps;
    out.push({
      target: "workers: 2 ≥ 1.5× req/s of 1 worker (c=64)",
      measured: `${num(two.rps, 0)} vs ${num(one.rps, 0)} req/s: ${num(ratio, 2)}×`,
      verdict: verdict(ratio >= 1.5),
    });
  }
  return out;
};

const dialects: Check = (rows) =>
  rows.filter((m) => m.compare !== undefined && m.kind === "stream").flatMap((m) => {
    const mc = cpuPerChunk(m), pc = cpuPerChunk(find(rows, m.compare!, "gateway"));
    if (mc === undefined || !pc) return [];
    return [{
      target: `${m.label}: CPU per chunk ≤ 1.5× plain stream`,
      measured: `${num(mc, 1)} vs ${num(pc, 1)} µs/chunk: ${num(mc / pc, 2)}×`,
      verdict: verdict(mc / pc <= 1.5),
    }];
  });

/** The relay capacity is reported, not judged: the number that sizes a deployment. */
function relayLine(relay: readonly RelayRow[]): TargetLine[] {
  if (!relay.length) return [];
  const per = (name: string) => relay.find((r) => r.target === name);
  const part = (r: RelayRow) =>
    `${r.target} ${num(chunksPerCore(r.best), 0)} chunks/s per core (max ${maxStreams(r, relay)} streams)`;
  const g = chunksPerCore(per("gateway")?.best), b = chunksPerCore(per(BARE)?.best);
  return [{
    target: "stream-relay capacity (20 chunks/s streams, added inter-chunk p99 ≤ 5 ms)",
    measured: relay.map(part).join("; ") + (g && b ? `; gateway ${num(g / b, 2)}× bare proxy per core` : ""),
    verdict: "reported",
  }];
}

/** Every target that its scenarios let the bench check, in the order of the issues. */
export function checkTargets(i: TargetInputs): TargetLine[] {
  const features = (i.checks ?? []).map((c): TargetLine => ({
    target: c.name,
    measured: c.detail,
    verdict: verdict(c.ok),
  }));
  return [
    ...chat64(i.rows),
    ...chat16(i.rows),
    ...stream32(i.rows),
    ...features,
    ...memory(i.rows),
    ...relayLine(i.relay ?? []),
    ...variants(i.rows),
    ...dialects(i.rows),
  ];
}

/** Measurements taken while the hypervisor stole more than 5 % of the CPU. */
export function stealWarning(rows: readonly Measurement[]): string | undefined {
  const noisy = rows.filter((m) => (m.stealPct ?? 0) > 5);
  if (!noisy.length) return undefined;
  return `warning: ${noisy.length} reported measurement(s) ran with > 5 % CPU steal (${
    noisy.map((m) => `${m.label} ${m.target} ${num(m.stealPct, 0)} %`).join(", ")
  }); rerun for stable numbers`;
}

/** The targets as a table (Markdown pipes). */
export function formatTargets(lines: readonly TargetLine[]): string {
  if (!lines.length) return "No target's scenarios ran.";
  return alignedTable(
    ["target", "measured", "verdict"],
    lines.map((l) => [l.target, l.measured, l.verdict]),
    new Set(),
  );
}
