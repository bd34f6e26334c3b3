import assert from "node:assert/strict";
import { manualSchedule } from "../../tests/fakes/manual_schedule.ts";
import { createChunkOutput, createLineWriter, type LineWriter } from "./line_writer.ts";

// The flush timer is a manual schedule: time moves only when the test says so, and a write
// started by the timer is awaited through the sink itself, never through a sleep.

/** A sink that takes at most `limit` bytes a call and can wait for its next write. */
function sink(limit = Infinity) {
  const out: string[] = [];
  let next = Promise.withResolvers<void>();
  return {
    out,
    write: (b: Uint8Array) => {
      const n = Math.min(b.byteLength, limit);
      out.push(new TextDecoder().decode(b.subarray(0, n)));
      next.resolve();
      next = Promise.withResolvers<void>();
      return Promise.resolve(n);
    },
    /** Resolves at the sink's next write. */
    written: () => next.promise,
  };
}

Deno.test("createLineWriter() holds lines until flushMs has passed, then writes them in one call, in order", async () => {
  const s = sink();
  const time = manualSchedule();
  const w = createLineWriter({ sink: s.write, flushMs: 20, schedule: time.schedule });
  for (const l of ["a", "b", "c"]) w.write(l);
  assert.deepEqual(time.pending(), [20], "one timer for the batch");
  time.advance(19);
  assert.deepEqual(time.pending(), [1], "the timer ran before flushMs");
  assert.deepEqual(s.out, []);
  const written = s.written();
  time.advance(1);
  await written;
  assert.deepEqual(s.out, ["a\nb\nc\n"]);
  assert.deepEqual(time.pending(), []);
  w.write("d");
  assert.deepEqual(time.pending(), [20], "the next line arms a new timer");
});

Deno.test("createLineWriter() writes at once past maxBytes, with no timer, and finishes partial writes", async () => {
  const s = sink(3);
  const time = manualSchedule();
  const w = createLineWriter({ sink: s.write, flushMs: 10_000, maxBytes: 4, schedule: time.schedule });
  const written = s.written();
  w.write("hello");
  assert.deepEqual(time.pending(), [], "waits for a timer although maxBytes was reached");
  await written;
  await w.flush(); // nothing is queued: this only waits for the write under way
  assert.equal(s.out.join(""), "hello\n");
  assert.ok(s.out.length > 1, "partial writes were continued");
});

Deno.test("createLineWriter() flush() writes at once and disarms the timer", async () => {
  const s = sink();
  const time = manualSchedule();
  const w = createLineWriter({ sink: s.write, flushMs: 20, schedule: time.schedule });
  w.write("x");
  await w.flush();
  assert.deepEqual(s.out, ["x\n"]);
  assert.deepEqual(time.pending(), []);
  await w.flush();
  assert.deepEqual(s.out, ["x\n"], "an empty flush wrote something");
});

Deno.test("createLineWriter() keeps writing after the sink fails once", async () => {
  const out: string[] = [];
  let fail = true;
  const w = createLineWriter({
    sink: (b) => {
      if (fail) return (fail = false, Promise.reject(new Error("stdout closed")));
      out.push(new TextDecoder().decode(b));
      return Promise.resolve(b.byteLength);
    },
    schedule: manualSchedule().schedule,
  });
  w.write("lost");
  await w.flush();
  w.write("kept");
  await w.flush();
  assert.deepEqual(out, ["kept\n"]);
});

/** A sink whose writes finish only when the test releases them. */
function stuckSink() {
  const out: string[] = [];
  const waiting: (() => void)[] = [];
  return {
    out,
    write: (b: Uint8Array) =>
      new Promise<number>((resolve) =>
        waiting.push(() => (out.push(new TextDecoder().decode(b)), resolve(b.byteLength)))
      ),
    /** Finishes every write the sink has been given so far, and the ones that follow. */
    async release() {
      for (let i = 0; i < 100 && (waiting.length > 0 || i < 3); i++) {
        waiting.splice(0).forEach((w) => w());
        await Promise.resolve();
        await new Promise((r) => setTimeout(r, 0));
      }
    },
    waiting: () => waiting.length,
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("createChunkOutput() drops whole chunks past maxPendingBytes while the sink is stuck and reports their lines once it has caught up", async () => {
  const s = stuckSink();
  const dropped: number[] = [];
  const out = createChunkOutput({ sink: s.write, maxPendingBytes: 10, onDropped: (n) => dropped.push(n) });
  out.write(bytes("aaaa\n")); // 5 pending
  out.write(bytes("bbbb\n")); // 10 pending: at the bound, taken
  out.write(bytes("c\nc\n")); // would be 14: dropped, 2 lines
  out.write(bytes("d\n")); // would be 12: dropped, 1 line
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(s.waiting(), 1, "one write at a time");
  assert.deepEqual(dropped, [], "nothing is reported while the sink is behind");
  await s.release();
  await out.done();
  assert.deepEqual(s.out, ["aaaa\n", "bbbb\n"], "the chunks taken, whole and in order");
  assert.deepEqual(dropped, [3], "the dropped lines, reported once");
  out.write(bytes("e\n"));
  await s.release();
  await out.done();
  assert.deepEqual(s.out.at(-1), "e\n", "taken again once caught up");
  assert.deepEqual(dropped, [3]);
});

Deno.test("createChunkOutput() takes a chunk larger than the bound when nothing waits, and a report written from onDropped", async () => {
  const s = stuckSink();
  const out = createChunkOutput({
    sink: s.write,
    maxPendingBytes: 4,
    onDropped: (n) => out.write(bytes(`dropped ${n}\n`)),
  });
  out.write(bytes("0123456789\n"));
  out.write(bytes("x\n"));
  await s.release();
  await out.done();
  assert.deepEqual(s.out, ["0123456789\n", "dropped 1\n"]);
});

Deno.test("createLineWriter() bounds what waits for a stuck sink: a burst of lines keeps at most maxPendingBytes", async () => {
  const s = stuckSink();
  const dropped: number[] = [];
  const w = createLineWriter({
    sink: s.write,
    maxBytes: 100,
    maxPendingBytes: 1000,
    onDropped: (n) => dropped.push(n),
    schedule: manualSchedule().schedule,
  });
  for (let i = 0; i < 10_000; i++) w.write(`line ${String(i).padStart(5, "0")} ${"x".repeat(40)}`);
  const flushed = w.flush();
  await s.release();
  await flushed;
  const kept = s.out.join("").split("\n").filter(Boolean);
  assert.ok(kept.length > 0 && kept.length <= 1000 / 50 + 2, `${kept.length} lines kept`);
  assert.deepEqual(kept, [...kept].sort(), "in order");
  assert.deepEqual(dropped, [10_000 - kept.length], "every line is either written or counted");
});

Deno.test("createLineWriter() flush() resolves only once the report of dropped lines, written from inside a write, is out", async () => {
  const s = stuckSink();
  const w: LineWriter = createLineWriter({
    sink: s.write,
    maxBytes: 10,
    maxPendingBytes: 20,
    onDropped: (n) => w.write(`dropped ${n}`),
    schedule: manualSchedule().schedule,
  });
  for (let i = 0; i < 10; i++) w.write(`line ${i} xxxxxxx`); // each a batch of its own; 9 dropped
  let flushed = false;
  const flush = w.flush().then(() => (flushed = true));
  while (!flushed) await s.release();
  await flush;
  assert.equal(s.out.join(""), "line 0 xxxxxxx\ndropped 9\n", "the report is out when flush() resolves");
  await w.flush();
  assert.equal(s.out.join(""), "line 0 xxxxxxx\ndropped 9\n", "nothing was left queued");
});

Deno.test("createChunkOutput() goes on writing when onDropped throws", async () => {
  const s = stuckSink();
  const out = createChunkOutput({
    sink: s.write,
    maxPendingBytes: 4,
    onDropped: () => {
      throw new Error("logger broke");
    },
  });
  out.write(bytes("aaa\n"));
  out.write(bytes("b\n"));
  await s.release();
  await out.done();
  out.write(bytes("c\n"));
  await s.release();
  await out.done();
  assert.deepEqual(s.out, ["aaa\n", "c\n"]);
});
