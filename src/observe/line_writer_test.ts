import assert from "node:assert/strict";
import { createLineWriter } from "./line_writer.ts";

function sink(limit = Infinity) {
  const out: string[] = [];
  return {
    out,
    write: (b: Uint8Array) => {
      const n = Math.min(b.byteLength, limit);
      out.push(new TextDecoder().decode(b.subarray(0, n)));
      return Promise.resolve(n);
    },
  };
}

Deno.test("createLineWriter() joins queued lines into one write, in order", async () => {
  const s = sink();
  const w = createLineWriter({ sink: s.write, flushMs: 10_000 });
  for (const l of ["a", "b", "c"]) w.write(l);
  assert.deepEqual(s.out, []);
  await w.flush();
  assert.deepEqual(s.out, ["a\nb\nc\n"]);
});

Deno.test("createLineWriter() writes at once past maxBytes and finishes partial writes", async () => {
  const s = sink(3);
  const w = createLineWriter({ sink: s.write, flushMs: 10_000, maxBytes: 4 });
  w.write("hello");
  await w.flush();
  assert.equal(s.out.join(""), "hello\n");
  assert.ok(s.out.length > 1, "partial writes were continued");
});

Deno.test("createLineWriter() flushes by itself after flushMs", async () => {
  const s = sink();
  const w = createLineWriter({ sink: s.write, flushMs: 1 });
  w.write("x");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(s.out, ["x\n"]);
  await w.flush();
});
