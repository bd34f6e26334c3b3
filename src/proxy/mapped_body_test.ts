import assert from "node:assert/strict";
import { chunkReader } from "./chunk_reader.ts";
import { mappedBody } from "./mapped_body.ts";
import { type BodyEnd, trackBody } from "./tracked_body.ts";

const enc = new TextEncoder();

/** An endless upstream body (one line per pull) and what its tracked relay reported. */
function tracked() {
  const seen = { ends: [] as BodyEnd[], cancelled: 0, upstreamCancelled: false };
  let i = 0;
  const upstream = new ReadableStream<Uint8Array>({
    pull: (c) => c.enqueue(enc.encode(`line ${i++}\n`)),
    cancel: () => void (seen.upstreamCancelled = true),
  });
  const body = trackBody(chunkReader(upstream), {
    chunk() {},
    ended: (e) => seen.ends.push(e),
    cancelled: () => void seen.cancelled++,
  }, { closeOnError: true });
  return { body, seen };
}

const options = {
  strip: false,
  errorEvent: (e: unknown) => enc.encode(`error: ${(e as Error).message}\n`),
  failure: () => undefined,
};

Deno.test("mappedBody(): a mapper that throws ends the body behind it as a failure, not as the client's abort", async () => {
  const { body, seen } = tracked();
  let n = 0;
  const mapper = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      if (++n === 2) throw new Error("not JSON");
      out.enqueue(chunk);
    },
  });
  const text = await new Response(mappedBody(body, mapper, options)).text();
  assert.equal(text, "line 0\nerror: not JSON\n");
  assert.equal(seen.cancelled, 0, "the client did not leave");
  assert.equal(seen.ends.length, 1);
  assert.equal(seen.ends[0].outcome, "failure");
  assert.equal((seen.ends[0] as { error: Error }).error.message, "not JSON");
  assert(seen.upstreamCancelled, "the upstream is let go");
});

Deno.test("mappedBody(): the client's cancel reaches the body behind the mapper as an abort", async () => {
  const { body, seen } = tracked();
  const reader = mappedBody(body, new TransformStream(), options).getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "line 0\n");
  await reader.cancel(new Error("client went away"));
  for (let i = 0; i < 10 && seen.ends.length === 0; i++) await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(seen.ends, [{ outcome: "abort" }]);
  assert.equal(seen.cancelled, 1);
  assert(seen.upstreamCancelled);
});
