/**
 * The bench's one table (plain text, also valid Markdown) and the issue 7 targets checked against
 * it. Gateway rows are compared with the direct row of the same scenario, measured in the same run.
 *
 * @module
 */

/** Chunks per stream of the bench upstream (`STREAM_CHUNKS` of `scenarios.ts`). */
const CHUNKS = 50;

/** What the bench measured for one target in one scenario. */
export interface Measurement {
  readonly scenario: string;
  /** A client dialect's scenario: the plain OpenAI scenario it is compared with. */
  readonly compare?: string;
  readonly label: string;
  readonly target: "direct" | "gateway" | "deno proxy" | "gateway redis" | "gateway workers=2";
  readonly kind: "requests" | "stream" | "hold" | "soak";
  readonly requests: number;
  readonly errors: number;
  readonly rps?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly cpuUsPerRequest?: number;
  readonly peakRssMb?: number;
  readonly ttfbP50Ms?: number;
  readonly readsP50?: number;
  readonly maxGapP99Ms?: number;
  /** Hold: streams open at once, and RSS before opening them. */
  readonly open?: number;
  readonly rssBeforeMb?: number;
  /** Hold: RSS at the end of the hold, all streams still open. */
  readonly rssHoldingMb?: number;
  /** CPU time the hypervisor took while this was measured, % (noisy neighbours). */
  readonly stealPct?: number;
  /** With several rounds: how far the slowest round fell below the best, as a fraction. */
  readonly rpsSpread?: number;
  /** Soak: RSS after warm-up and at the end. */
  readonly rssStartMb?: number;
  readonly rssEndMb?: number;
}

const HEAD = [
  "scenario",
  "target",
  "req/s",
  "p50 ms",
  "p99 ms",
  "errors",
  "CPU µs/req",
  "peak RSS MB",
  "vs direct",
];

const num = (v: number | undefined, digits: number) =>
  v === undefined || !Number.isFinite(v)
    ? "n/a"
    : v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const signed = (v: number, digits = 2) => `${v >= 0 ? "+" : "−"}${num(Math.abs(v), digits)}`;

/** A dialect's row against the plain OpenAI row of the same run: CPU per request, and per chunk. */
function versusPlain(m: Measurement, plain: Measurement | undefined): string {
  if (!plain?.cpuUsPerRequest || m.cpuUsPerRequest === undefined) return `vs ${m.compare}: n/a`;
  const ratio = num(m.cpuUsPerRequest / plain.cpuUsPerRequest, 2);
  if (m.kind !== "stream") return `CPU ${ratio}× plain chat (${num(plain.cpuUsPerRequest, 0)} µs)`;
  return `CPU/chunk ${num(m.cpuUsPerRequest / CHUNKS, 1)} µs vs ${
    num(plain.cpuUsPerRequest / CHUNKS, 1)
  } µs ` +
    `plain (${ratio}×); reads/stream ${num(m.readsP50, 0)}`;
}

function versus(m: Measurement, direct: Measurement | undefined): string {
  if (m.kind === "soak") {
    const growth = ((m.rssEndMb! - m.rssStartMb!) / m.rssStartMb!) * 100;
    return `RSS ${num(m.rssStartMb, 1)} → ${num(m.rssEndMb, 1)} MB (${signed(growth, 1)} %)`;
  }
  if (m.kind === "hold") {
    // Per stream: RSS with every stream open minus RSS before (the peak also holds opening garbage).
    const grew = (m.rssHoldingMb ?? NaN) - (m.rssBeforeMb ?? NaN);
    return `${m.open} open; RSS ${num(m.rssBeforeMb, 0)} → ${num(m.rssHoldingMb, 0)} MB (${
      num((grew * 1024) / (m.open || 1), 0)
    } KB/stream)`;
  }
  if (!direct || m === direct) {
    return m.kind === "stream"
      ? `TTFB p50 ${num(m.ttfbP50Ms, 2)} ms; reads/stream ${num(m.readsP50, 0)}`
      : "—";
  }
  const cpu = m.cpuUsPerRequest !== undefined && direct.cpuUsPerRequest
    ? `, CPU ${num(m.cpuUsPerRequest / direct.cpuUsPerRequest, 1)}×`
    : "";
  if (m.kind === "stream") {
    return `TTFB p50 ${signed(m.ttfbP50Ms! - direct.ttfbP50Ms!)} ms, total p50 ${
      signed(m.p50Ms! - direct.p50Ms!)
    } ms; reads/stream ${num(m.readsP50, 0)}/${num(direct.readsP50, 0)}`;
  }
  return `${num((m.rps ?? 0) / (direct.rps || 1), 2)}× req/s, p50 ${
    signed(m.p50Ms! - direct.p50Ms!)
  } ms, p99 ${signed(m.p99Ms! - direct.p99Ms!)} ms${cpu}`;
}

/**
 * Of several rounds of one target, the fastest (highest req/s), noting the spread. Interference on
 * a shared machine (other tenants, the idle processes' GC) only ever slows a round down, so the best
 * round is the steadiest estimate of what each target can do.
 */
export function bestRound(rounds: readonly Measurement[]): Measurement {
  if (rounds.length === 1) return rounds[0];
  const sorted = [...rounds].sort((a, b) => (a.rps ?? 0) - (b.rps ?? 0));
  const best = sorted[sorted.length - 1];
  const low = sorted[0].rps ?? 0;
  return { ...best, rpsSpread: best.rps ? (best.rps - low) / best.rps : undefined };
}

/** The table, one row per measurement, aligned; Markdown pipes so it pastes into the README. */
export function formatTable(rows: readonly Measurement[]): string {
  const cells = rows.map((m) => {
    const direct = rows.find((d) => d.scenario === m.scenario && d.target === "direct");
    const plain = m.compare ? find(rows, m.compare, "gateway") : undefined;
    return [
      m.label,
      m.target,
      m.kind === "hold"
        ? "—"
        : `${num(m.rps, 0)}${m.rpsSpread === undefined ? "" : ` (−${num(m.rpsSpread * 100, 0)}%)`}`,
      num(m.p50Ms, 2),
      num(m.p99Ms, 2),
      `${m.errors}/${m.requests}`,
      num(m.cpuUsPerRequest, 0),
      num(m.peakRssMb, 1),
      m.compare ? versusPlain(m, plain) : versus(m, direct),
    ];
  });
  const widths = HEAD.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const right = new Set([2, 3, 4, 5, 6, 7]);
  const line = (c: readonly string[]) =>
    `| ${c.map((s, i) => (right.has(i) ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join(" | ")} |`;
  const rule = `|${
    widths.map((w, i) => (right.has(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")
  }|`;
  return [line(HEAD), rule, ...cells.map(line)].join("\n");
}

function find(rows: readonly Measurement[], scenario: string, target: Measurement["target"]) {
  return rows.find((m) => m.scenario === scenario && m.target === target);
}

/** Issue 7's targets, each with the measured value and MET / NOT MET (skipped when not measured). */
export function checkTargets(rows: readonly Measurement[]): string[] {
  const out: string[] = [];
  const verdict = (ok: boolean) => (ok ? "MET" : "NOT MET");
  const g64 = find(rows, "chat-c64", "gateway"), d64 = find(rows, "chat-c64", "direct");
  if (g64?.rps && d64?.rps) {
    const r = g64.rps / d64.rps;
    out.push(`chat c=64 throughput ≥ 0.30× direct: ${num(r, 2)}× — ${verdict(r >= 0.3)}`);
    const base = find(rows, "chat-c64", "deno proxy");
    if (base?.rps) out.push(`  (bare Deno.serve + fetch proxy: ${num(base.rps / d64.rps, 2)}× direct)`);
  }
  const g16 = find(rows, "chat-c16", "gateway"), d16 = find(rows, "chat-c16", "direct");
  if (g16?.p99Ms !== undefined && d16?.p99Ms !== undefined) {
    const added = g16.p99Ms - d16.p99Ms;
    out.push(`chat c=16 p99 ≤ direct + 4 ms: ${signed(added)} ms — ${verdict(added <= 4)}`);
  }
  const gs = find(rows, "stream-c32", "gateway"), ds = find(rows, "stream-c32", "direct");
  if (gs?.ttfbP50Ms !== undefined && ds?.ttfbP50Ms !== undefined) {
    const added = gs.ttfbP50Ms - ds.ttfbP50Ms;
    out.push(`stream c=32 added TTFB p50 ≤ 0.5 ms: ${signed(added)} ms — ${verdict(added <= 0.5)}`);
    const held = (gs.readsP50 ?? 0) < (ds.readsP50 ?? 0);
    out.push(
      `stream chunks never held back: reads/stream ${num(gs.readsP50, 0)} vs ${
        num(ds.readsP50, 0)
      } direct — ${verdict(!held)}`,
    );
  }
  const loaded = rows.filter((m) => m.target === "gateway" && (m.kind === "requests" || m.kind === "stream"));
  const peak = Math.max(...loaded.map((m) => m.peakRssMb ?? NaN));
  if (loaded.length && Number.isFinite(peak)) {
    out.push(`gateway peak RSS under load ≤ 150 MB: ${num(peak, 1)} MB — ${verdict(peak <= 150)}`);
  }
  const hold = rows.find((m) => m.kind === "hold" && m.target === "gateway");
  if (hold?.peakRssMb !== undefined) {
    const ok = hold.peakRssMb <= 300 && hold.errors === 0;
    out.push(
      `gateway peak RSS with ${hold.open} open streams ≤ 300 MB: ${num(hold.peakRssMb, 1)} MB — ${
        verdict(ok)
      }`,
    );
  }
  for (const m of rows.filter((r) => r.compare !== undefined && r.kind === "stream")) {
    const plain = find(rows, m.compare!, "gateway");
    if (!plain?.cpuUsPerRequest || m.cpuUsPerRequest === undefined) continue;
    const r = m.cpuUsPerRequest / plain.cpuUsPerRequest;
    out.push(`${m.label}: CPU per chunk ≤ 1.5× plain stream: ${num(r, 2)}× — ${verdict(r <= 1.5)}`);
  }
  const noisy = rows.filter((m) => (m.stealPct ?? 0) > 5);
  if (noisy.length) {
    out.push(
      `warning: ${noisy.length} reported measurement(s) ran with > 5 % CPU steal (${
        noisy.map((m) => `${m.label} ${m.target} ${num(m.stealPct, 0)} %`).join(", ")
      }); rerun for stable numbers`,
    );
  }
  const soak = rows.find((m) => m.kind === "soak");
  if (soak?.rssStartMb && soak.rssEndMb) {
    const growth = ((soak.rssEndMb - soak.rssStartMb) / soak.rssStartMb) * 100;
    out.push(`soak RSS growth ≤ 10 %: ${signed(growth, 1)} % — ${verdict(growth <= 10)}`);
  }
  return out;
}
