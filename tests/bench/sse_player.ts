/**
 * Plays the bench upstream's SSE streams: every open stream's chunks are sent by one shared 1 ms
 * ticker from a timing wheel (one bucket per millisecond of due time), so the work per tick is the
 * chunks that are due, not a scan of every open stream. Thousands of per-stream timers, or a scan
 * of thousands of streams every millisecond, would make the fake upstream, not the proxy in front
 * of it, the bottleneck of the streaming scenarios.
 *
 * @module
 */

/** What one stream sends: `count` chunks (the last one `last`), `gapMs` apart, the first at once. */
export interface StreamPlan {
  readonly count: number;
  readonly gapMs: number;
  /** The bytes of a chunk, built when it is sent (a relay chunk carries its send time). */
  readonly chunk: () => Uint8Array;
  readonly last: () => Uint8Array;
  /**
   * End without the last chunk: with a `content-length` the body never reaches, the server then
   * drops the connection, which is how a broken upstream looks (`controller.error()` would do the
   * same but makes `Deno.serve` print the error on stderr).
   */
  readonly cut?: boolean;
}

/** Where a stream's bytes go: a `ReadableStream`'s controller, or a socket. */
export interface Sink {
  send(bytes: Uint8Array): void;
  close(): void;
}

interface Playing {
  readonly sink: Sink;
  readonly plan: StreamPlan;
  left: number;
  due: number;
  done: boolean;
}

const wheel = new Map<number, Playing[]>();
let cursor = 0;
let active = 0;
let ticker: ReturnType<typeof setInterval> | undefined;

function schedule(p: Playing): void {
  const slot = Math.max(cursor, Math.ceil(p.due));
  const bucket = wheel.get(slot);
  if (bucket) bucket.push(p);
  else wheel.set(slot, [p]);
}

function finish(p: Playing): void {
  if (p.done) return;
  p.done = true;
  if (--active === 0) {
    clearInterval(ticker);
    ticker = undefined;
    wheel.clear();
  }
}

/** Sends `p`'s next chunk; false when the stream ended (or its client went away). */
function step(p: Playing): boolean {
  try {
    if (--p.left > 0) {
      p.sink.send(p.plan.chunk());
      return true;
    }
    if (!p.plan.cut) p.sink.send(p.plan.last());
    p.sink.close();
  } catch { /* the client went away */ }
  return false;
}

function tick(): void {
  const now = Math.floor(performance.now());
  const from = cursor;
  // Streams sent to in this tick are rescheduled from the next one on: one chunk per stream per
  // tick at most, so a late tick catches up over the next ticks instead of sending two at once.
  cursor = now + 1;
  for (let t = from; t <= now; t++) {
    const bucket = wheel.get(t);
    if (!bucket) continue;
    wheel.delete(t);
    for (const p of bucket) {
      if (p.done) continue;
      if (!step(p)) finish(p);
      else {
        p.due += p.plan.gapMs;
        schedule(p);
      }
    }
  }
}

/** Starts playing `plan` into `sink`: the first chunk at once, the others from the shared ticker. */
export function start(plan: StreamPlan, sink: Sink): { cancel(): void } {
  if (plan.count <= 1 && !plan.cut) {
    sink.send(plan.last());
    sink.close();
    return { cancel() {} };
  }
  sink.send(plan.chunk());
  const now = performance.now();
  const entry: Playing = { sink, plan, left: plan.count - 1, due: now + plan.gapMs, done: false };
  if (active++ === 0) {
    cursor = Math.floor(now);
    ticker = setInterval(tick, 1);
  }
  schedule(entry);
  return { cancel: () => finish(entry) };
}

/** A response body that plays `plan`. */
export function play(plan: StreamPlan): ReadableStream<Uint8Array> {
  let playing: { cancel(): void } | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      playing = start(plan, {
        send: (bytes) => controller.enqueue(bytes),
        close: () => controller.close(),
      });
    },
    cancel() {
      playing?.cancel();
    },
  });
}
