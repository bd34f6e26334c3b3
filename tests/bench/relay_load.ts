/**
 * The load generator of the stream-relay capacity scenario: holds `streams` concurrent SSE streams
 * (closed loop: a stream that ends is followed by the next on the same keep-alive connection) and
 * records, per pair of consecutive chunks of a stream, the delay added on the way: the gap between
 * their arrivals at the client minus the gap between their departures from the fake upstream (each
 * relay chunk carries its send time, `upstream.ts`). The upstream's own timer jitter cancels out;
 * what remains is what the path (proxy, sockets, both event loops) added to that chunk.
 *
 * It speaks raw HTTP/1.1 over `Deno.connect` rather than `fetch`: one read per chunk into a fixed
 * buffer costs ~13 µs of CPU per chunk here, where a `fetch` body reader took 49 µs and would fill
 * its core at ~1,000 streams; the bench runs it against the upstream directly to show its limit.
 *
 * Stream starts are spread over `rampMs`, and each connection's first stream has a length spread
 * over 1..chunks, so streams end (and the next ones start) evenly instead of in waves.
 *
 * Usage: `deno run --allow-net tests/bench/relay_load.ts '<RelaySpec JSON>'`; JSON lines on stdout
 * as in `loadgen.ts` (`measure-start`, `measure-end`, `result`).
 *
 * @module
 */

import { parseHead, scanEvents, Tail } from "./sse_scan.ts";
import { percentile, Samples } from "./stats.ts";

/** What to run. */
export interface RelaySpec {
  readonly port: number;
  readonly path: string;
  readonly streams: number;
  /** Chunks per stream (the upstream sends them `gapMs` apart). */
  readonly chunks: number;
  readonly rampMs: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** What it measured. */
export interface RelayLoadResult {
  readonly event: "result";
  /** Streams in progress when the measured window began. */
  readonly open: number;
  /** `data:` events received in the measured window. */
  readonly chunks: number;
  readonly elapsedMs: number;
  /** Added inter-chunk delay (arrival gap − send gap, ms) of chunks arriving in the window. */
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
  readonly addedMaxMs: number;
  /** Chunk pairs those figures come from (0: the chunks lost their send times on the way). */
  readonly pairs: number;
  /** Failed connects, non-200 or unframed answers, streams cut before `[DONE]` (whole run). */
  readonly errors: number;
}

const HOST = "127.0.0.1";
const ENCODER = new TextEncoder();
const LATIN1 = new TextDecoder("latin1");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const emit = (o: object) => console.log(JSON.stringify(o));

/** The golden-ratio sequence: first-stream lengths spread over 1..chunks, not in start order. */
const spread = (i: number, chunks: number) => 1 + Math.floor(((i * 0.6180339887) % 1) * chunks);

function request(spec: RelaySpec, chunks: number): Uint8Array {
  const body = JSON.stringify({
    model: "bench",
    messages: [{ role: "user", content: `BENCH_RELAY_${chunks}` }],
    stream: true,
  });
  return ENCODER.encode(
    `POST ${spec.path} HTTP/1.1\r\nhost: ${HOST}:${spec.port}\r\ncontent-type: application/json\r\n` +
      `accept: text/event-stream\r\ncontent-length: ${ENCODER.encode(body).byteLength}\r\n\r\n${body}`,
  );
}

class Run {
  stop = false;
  measuring = false;
  inStream = 0;
  chunks = 0;
  errors = 0;
  readonly added = new Samples();
  readonly conns = new Set<Deno.Conn>();
  constructor(readonly spec: RelaySpec) {}
}

/** One stream on `conn`; true when it ended cleanly (the connection can carry the next one). */
async function oneStream(run: Run, conn: Deno.Conn, buf: Uint8Array, chunks: number): Promise<boolean> {
  const bytes = request(run.spec, chunks);
  for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
  const tail = new Tail();
  const stamps: number[] = [];
  let head = "", bodyStarted = false, done = false, lastAt = -1, lastSent = -1;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return false;
    const now = performance.now();
    let from = 0;
    if (!bodyStarted) {
      head += LATIN1.decode(buf.subarray(0, n));
      const h = parseHead(head);
      if (!h) continue;
      if (h.status !== 200 || !h.chunked) return false;
      bodyStarted = true;
      from = n - (head.length - h.length);
    }
    stamps.length = 0;
    const seen = scanEvents(buf, from, n, stamps);
    done ||= seen.done;
    if (run.measuring) run.chunks += seen.events;
    for (const sent of stamps) {
      if (run.measuring && lastSent >= 0) run.added.push(now - lastAt - (sent - lastSent) / 1000);
      lastAt = now;
      lastSent = sent;
    }
    if (tail.push(buf, from, n)) return done;
  }
}

async function worker(run: Run, i: number): Promise<void> {
  await sleep((i * run.spec.rampMs) / run.spec.streams);
  const buf = new Uint8Array(4096);
  let length = spread(i, run.spec.chunks);
  while (!run.stop) {
    let conn: Deno.Conn | undefined;
    try {
      conn = await Deno.connect({ hostname: HOST, port: run.spec.port });
      run.conns.add(conn);
      for (;;) {
        run.inStream++;
        const ok = await oneStream(run, conn, buf, length).finally(() => run.inStream--);
        length = run.spec.chunks;
        if (!ok) break;
      }
    } catch { /* reset, refused, or closed by stop() */ }
    if (conn) {
      run.conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed by stop() */ }
    }
    if (run.stop) return;
    run.errors++;
    await sleep(50);
  }
}

async function relay(spec: RelaySpec): Promise<RelayLoadResult> {
  const run = new Run(spec);
  const workers = Array.from({ length: spec.streams }, (_, i) => worker(run, i));
  await sleep(spec.rampMs + spec.warmupMs);
  const open = run.inStream;
  run.measuring = true;
  const t0 = performance.now();
  emit({ event: "measure-start" });
  await sleep(spec.durationMs);
  run.measuring = false;
  const elapsedMs = performance.now() - t0;
  emit({ event: "measure-end" });
  run.stop = true;
  for (const c of run.conns) {
    try {
      c.close();
    } catch { /* already closed */ }
  }
  await Promise.race([Promise.all(workers), sleep(5_000)]);
  const added = run.added.sorted();
  return {
    event: "result",
    open,
    chunks: run.chunks,
    elapsedMs,
    addedP50Ms: percentile(added, 50),
    addedP99Ms: percentile(added, 99),
    addedMaxMs: added.length ? added[added.length - 1] : NaN,
    pairs: added.length,
    errors: run.errors,
  };
}

if (import.meta.main) {
  emit(await relay(JSON.parse(Deno.args[0] ?? "{}") as RelaySpec));
  Deno.exit(0);
}
