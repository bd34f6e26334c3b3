import assert from "node:assert/strict";
import type { Measurement } from "./measurement.ts";
import type { RelayRow, RelayStep } from "./relay.ts";
import { checkTargets, formatTargets, stealWarning, type TargetLine } from "./targets.ts";

const row = (
  scenario: string,
  target: Measurement["target"],
  m: Partial<Measurement>,
): Measurement => ({
  scenario,
  label: scenario,
  target,
  kind: scenario.includes("stream") ? "stream" : "requests",
  requests: 1000,
  errors: 0,
  ...m,
});

const ROWS: Measurement[] = [
  row("chat-c64", "gateway", { rps: 900, p50Ms: 5, p99Ms: 9, cpuUsPerRequest: 120, peakRssMb: 180 }),
  row("chat-c64", "deno proxy", { rps: 1000, p50Ms: 4, p99Ms: 8, cpuUsPerRequest: 100, peakRssMb: 120 }),
  row("chat-c16", "gateway", { rps: 900, p50Ms: 2, p99Ms: 6.5, peakRssMb: 150 }),
  row("chat-c16", "deno proxy", { rps: 1000, p50Ms: 1, p99Ms: 4, peakRssMb: 110 }),
  row("stream-c32", "direct", { ttfbP50Ms: 1 }),
  row("stream-c32", "gateway", { ttfbP50Ms: 2.2, cpuUsPerRequest: 600 }),
  row("stream-c32", "deno proxy", { ttfbP50Ms: 2, cpuUsPerRequest: 500 }),
  row("streams-1000", "gateway", { kind: "hold", peakRssMb: 240, open: 1000 }),
  row("chat-c64-redis", "gateway", { rps: 1000, p50Ms: 5 }),
  row("chat-c64-redis", "gateway redis", { rps: 790, p50Ms: 5.5 }),
  row("chat-c64-workers", "gateway", { rps: 1000 }),
  row("chat-c64-workers", "gateway workers=2", { rps: 1600 }),
  row("anthropic-stream-c32", "gateway", { compare: "stream-c32", cpuUsPerRequest: 960 }),
];

const verdictOf = (lines: TargetLine[], start: string) =>
  lines.find((l) => l.target.startsWith(start))?.verdict;

Deno.test("issue 12's targets are ratios against the bare proxy of the same run", () => {
  const lines = checkTargets({ rows: ROWS });
  assert.equal(verdictOf(lines, "chat c=64 req/s"), "met"); // 0.90×
  assert.equal(verdictOf(lines, "chat c=64 CPU"), "met"); // 1.20×
  assert.equal(verdictOf(lines, "chat c=16 p99"), "not met"); // +2.5 ms
  assert.equal(verdictOf(lines, "stream c=32 CPU"), "met"); // 1.2×
  assert.equal(verdictOf(lines, "stream c=32 added TTFB"), "met"); // +0.2 ms
  assert.equal(verdictOf(lines, "peak RSS under load"), "not met"); // chat c=64 +60 MB
  assert.equal(verdictOf(lines, "1,000 open streams"), "met");
  const ttfb = lines.find((l) => l.target.startsWith("stream c=32 added TTFB"))!;
  assert.match(ttfb.measured, /\+1\.20 vs \+1\.00 ms over direct/);
});

Deno.test("issue 13's and 15's targets are checked against the plain gateway", () => {
  const lines = checkTargets({ rows: ROWS });
  assert.equal(verdictOf(lines, "limits in Redis: ≥ 0.8×"), "not met"); // 0.79×
  assert.equal(verdictOf(lines, "limits in Redis: p50"), "met"); // +0.5 ms
  assert.equal(verdictOf(lines, "workers: 2"), "met"); // 1.6×
  assert.equal(verdictOf(lines, "anthropic-stream-c32"), "not met"); // 1.6× per chunk
});

Deno.test("targets whose scenarios did not run are left out", () => {
  const lines = checkTargets({ rows: ROWS.filter((r) => r.scenario === "chat-c16") });
  assert.deepEqual(lines.map((l) => l.target), [
    "chat c=16 p99 ≤ bare proxy + 2 ms",
    "peak RSS under load ≤ bare proxy + 50 MB (each window)",
  ]);
  assert.equal(formatTargets([]), "No target's scenarios ran.");
});

Deno.test("feature checks and the relay capacity become lines of their own", () => {
  const step = (n: number, chunksPerS: number, cpuPct: number): RelayStep => ({
    n,
    pass: true,
    open: n,
    chunksPerS,
    addedP50Ms: 0,
    addedP99Ms: 1,
    pairs: 100,
    errors: 0,
    cpuPct,
  });
  const relay: RelayRow[] = [
    { target: "gateway", steps: [], best: step(200, 4000, 20), capped: false },
    { target: "deno proxy", steps: [], best: step(400, 8000, 16), capped: false },
  ];
  const lines = checkTargets({
    rows: [],
    relay,
    checks: [{ name: "usage kept", ok: false, detail: "0 tokens" }],
  });
  assert.deepEqual(lines[0], { target: "usage kept", measured: "0 tokens", verdict: "not met" });
  assert.equal(lines[1].verdict, "reported");
  assert.match(lines[1].measured, /gateway 20,000 chunks\/s per core \(max 200 streams\)/);
  assert.match(lines[1].measured, /gateway 0\.40× bare proxy per core/);
});

Deno.test("a measurement under heavy CPU steal is flagged", () => {
  assert.equal(stealWarning(ROWS), undefined);
  assert.match(stealWarning([{ ...ROWS[0], stealPct: 12 }])!, /1 reported measurement/);
});
