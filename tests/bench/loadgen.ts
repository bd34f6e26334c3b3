/**
 * The Deno load generator, used when `wrk` is not installed (closed-loop requests) and always for
 * streams (wrk cannot see the first byte). Runs as its own process, pinned by the orchestrator to
 * a core of its own. Keep-alive comes from `fetch`'s connection pool: each worker reuses one
 * connection once its previous response body is fully read.
 *
 * Usage: `deno run --allow-net tests/bench/loadgen.ts '<LoadSpec JSON>'`. Progress and the result
 * are JSON lines on stdout: `{"event":"measure-start"}`, `{"event":"holding",…}`,
 * `{"event":"result",…}`.
 *
 * @module
 */

import { percentile, Samples } from "./stats.ts";

/** What to run. */
export interface LoadSpec {
  /** `closed`: request/response loop; `stream`: SSE streams timed to the first byte; `hold`: open streams. */
  readonly mode: "closed" | "stream" | "hold";
  readonly url: string;
  readonly body: string;
  /** Workers (closed, stream) or streams to open (hold). */
  readonly concurrency: number;
  readonly warmupMs: number;
  /** Measured time (closed, stream) or how long the open streams are held (hold). */
  readonly durationMs: number;
  /** Streams: what the end of a complete stream holds (default `[DONE]`; a dialect's final event). */
  readonly endMarker?: string;
}

/** What the load generator reports. */
export interface LoadResult {
  readonly event: "result";
  readonly requests: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Streams: time to the first body byte. */
  readonly ttfbP50Ms?: number;
  readonly ttfbP99Ms?: number;
  /** Streams: body reads per stream (median): fewer than the upstream's chunks = chunks held back. */
  readonly readsP50?: number;
  /** Streams: the largest gap between two reads of one stream (p99 over streams). */
  readonly maxGapP99Ms?: number;
  /** Hold: streams that were open at once. */
  readonly open?: number;
}

const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const DONE = new TextEncoder().encode("[DONE]");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const emit = (o: object) => console.log(JSON.stringify(o));

function endsWithDone(last: Uint8Array | undefined, marker = "[DONE]"): boolean {
  if (!last || last.byteLength < DONE.byteLength) return false;
  // The last event can be long (a Responses `response.completed` repeats the whole answer).
  const text = new TextDecoder().decode(last.subarray(Math.max(0, last.byteLength - 4096)));
  return text.includes(marker);
}

/** Runs `work` on `concurrency` workers: warm-up, then the measured window. */
async function windowed(spec: LoadSpec, work: (measuring: () => boolean) => Promise<void>) {
  let stop = false;
  let measuring = false;
  const loops = Array.from({ length: spec.concurrency }, async () => {
    while (!stop) await work(() => measuring);
  });
  await sleep(spec.warmupMs);
  measuring = true;
  const t0 = performance.now();
  emit({ event: "measure-start" });
  await sleep(spec.durationMs);
  measuring = false;
  const elapsedMs = performance.now() - t0;
  emit({ event: "measure-end" });
  stop = true;
  await Promise.race([Promise.all(loops), sleep(10_000)]);
  return elapsedMs;
}

async function closedLoop(spec: LoadSpec): Promise<LoadResult> {
  const latency = new Samples();
  let errors = 0;
  const elapsedMs = await windowed(spec, async (measuring) => {
    const t0 = performance.now();
    try {
      const res = await fetch(spec.url, { method: "POST", headers: HEADERS, body: spec.body });
      await res.arrayBuffer();
      if (!measuring()) return;
      if (res.ok) latency.push(performance.now() - t0);
      else errors++;
    } catch {
      if (measuring()) errors++;
      await sleep(1);
    }
  });
  const sorted = latency.sorted();
  return {
    event: "result",
    requests: sorted.length + errors,
    errors,
    elapsedMs,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

async function streamLoop(spec: LoadSpec): Promise<LoadResult> {
  const total = new Samples(), ttfb = new Samples(), reads = new Samples(), gaps = new Samples();
  let errors = 0;
  const elapsedMs = await windowed(spec, async (measuring) => {
    const t0 = performance.now();
    try {
      const res = await fetch(spec.url, { method: "POST", headers: HEADERS, body: spec.body });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        if (measuring()) errors++;
        return;
      }
      const reader = res.body.getReader();
      let chunk = await reader.read();
      const first = performance.now() - t0;
      let last = performance.now(), maxGap = 0, count = 0, tail: Uint8Array | undefined;
      while (!chunk.done) {
        count++;
        tail = chunk.value;
        chunk = await reader.read();
        const now = performance.now();
        if (!chunk.done) maxGap = Math.max(maxGap, now - last);
        last = now;
      }
      if (!measuring()) return;
      if (!endsWithDone(tail, spec.endMarker)) return void errors++;
      ttfb.push(first);
      total.push(last - t0);
      reads.push(count);
      gaps.push(maxGap);
    } catch {
      if (measuring()) errors++;
      await sleep(1);
    }
  });
  const t = total.sorted(), f = ttfb.sorted();
  return {
    event: "result",
    requests: t.length + errors,
    errors,
    elapsedMs,
    p50Ms: percentile(t, 50),
    p99Ms: percentile(t, 99),
    ttfbP50Ms: percentile(f, 50),
    ttfbP99Ms: percentile(f, 99),
    readsP50: percentile(reads.sorted(), 50),
    maxGapP99Ms: percentile(gaps.sorted(), 99),
  };
}

/** Opens `concurrency` long streams (100 at a time), holds them, then closes them all. */
async function hold(spec: LoadSpec): Promise<LoadResult> {
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  const ttfb = new Samples();
  let errors = 0;
  const t0 = performance.now();
  const openOne = async () => {
    const started = performance.now();
    try {
      const res = await fetch(spec.url, { method: "POST", headers: HEADERS, body: spec.body });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return void errors++;
      }
      const reader = res.body.getReader();
      const first = await reader.read();
      if (first.done) return void errors++;
      ttfb.push(performance.now() - started);
      readers.push(reader);
      // Keep draining so the stream stays live; ends when cancelled.
      (async () => {
        try {
          while (!(await reader.read()).done) { /* discard */ }
        } catch { /* cancelled */ }
      })();
    } catch {
      errors++;
    }
  };
  const deadline = t0 + 60_000;
  for (let i = 0; i < spec.concurrency && performance.now() < deadline; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, spec.concurrency - i) }, openOne));
  }
  const f = ttfb.sorted();
  emit({ event: "holding", open: readers.length, errors });
  await sleep(spec.durationMs);
  emit({ event: "measure-end" });
  await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
  return {
    event: "result",
    requests: readers.length + errors,
    errors,
    elapsedMs: performance.now() - t0,
    p50Ms: percentile(f, 50),
    p99Ms: percentile(f, 99),
    ttfbP50Ms: percentile(f, 50),
    ttfbP99Ms: percentile(f, 99),
    open: readers.length,
  };
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0] ?? "{}") as LoadSpec;
  const run = spec.mode === "closed" ? closedLoop : spec.mode === "stream" ? streamLoop : hold;
  emit(await run(spec));
  Deno.exit(0);
}
