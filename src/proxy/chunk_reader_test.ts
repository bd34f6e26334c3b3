import assert from "node:assert/strict";
import { chunkReader } from "./chunk_reader.ts";

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** A byte stream (like a `fetch` body) that enqueues `parts` one per pull. */
function byteStream(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    type: "bytes",
    pull(c) {
      if (i >= parts.length) {
        c.close();
        return c.byobRequest?.respond(0); // a pending BYOB read is answered with "done"
      }
      const part = parts[i++];
      const req = c.byobRequest;
      if (req?.view && part.byteLength > 0) {
        // Answer the reader's own buffer, as Deno's fetch bodies do.
        const n = Math.min(part.byteLength, req.view.byteLength);
        new Uint8Array(req.view.buffer, req.view.byteOffset, n).set(part.subarray(0, n));
        if (n < part.byteLength) parts.splice(i, 0, part.subarray(n));
        req.respond(n);
      } else if (part.byteLength > 0) {
        c.enqueue(part.slice());
      }
    },
  });
}

Deno.test("chunkReader() reads a byte stream into one buffer and hands out separate copies", async () => {
  const enc = new TextEncoder();
  const reader = chunkReader(byteStream([enc.encode("data: 1\n\n"), enc.encode("data: 2\n\n")]));
  const a = await reader.read();
  const b = await reader.read();
  assert.equal(text(a), "data: 1\n\n", "the first chunk is not overwritten by the second read");
  assert.equal(text(b), "data: 2\n\n");
  assert.notEqual(a!.buffer, b!.buffer);
  assert.equal(await reader.read(), undefined);
});

Deno.test("chunkReader() splits a chunk larger than its buffer and never yields an empty chunk", async () => {
  const big = new Uint8Array(20).map((_, i) => i);
  const reader = chunkReader(byteStream([big]), 8, 8);
  const got: number[] = [];
  for (let c = await reader.read(); c !== undefined; c = await reader.read()) {
    assert.ok(c.byteLength > 0 && c.byteLength <= 8);
    got.push(...c);
  }
  assert.deepEqual(got, [...big]);

  const plain = chunkReader(
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(0));
        c.enqueue(new Uint8Array([7]));
        c.close();
      },
    }),
  );
  assert.deepEqual([...(await plain.read())!], [7]);
  assert.equal(await plain.read(), undefined);
});

Deno.test("chunkReader() grows its buffer while reads fill it, up to its maximum", async () => {
  const big = new Uint8Array(100).map((_, i) => i);
  const reader = chunkReader(byteStream([big]), 8, 32);
  const sizes: number[] = [];
  const got: number[] = [];
  for (let c = await reader.read(); c !== undefined; c = await reader.read()) {
    sizes.push(c.byteLength);
    got.push(...c);
  }
  assert.deepEqual(sizes, [8, 16, 32, 32, 12]);
  assert.deepEqual(got, [...big]);
});

Deno.test("chunkReader() reads a real fetch body and cancels it", async () => {
  const reader = chunkReader(new Response("hello world").body!);
  assert.equal(text(await reader.read()), "hello world");
  assert.equal(await reader.read(), undefined);
  const cancelled = chunkReader(new Response("x".repeat(100_000)).body!);
  await cancelled.read();
  await cancelled.cancel(); // must not throw
});
