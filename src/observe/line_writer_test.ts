import assert from "node:assert/strict";
import { manualSchedule } from "../../tests/fakes/manual_schedule.ts";
import { createLineWriter } from "./line_writer.ts";

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
