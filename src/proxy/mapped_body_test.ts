import assert from "node:assert/strict";
import { chunkReader } from "./chunk_reader.ts";
import { HeldEnd, mappedBody } from "./mapped_body.ts";
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

/** A finite upstream body of `lines`, tracked behind a {@linkcode HeldEnd}, and what it reported. */
function finite(lines: string[]) {
  const seen = { ends: [] as BodyEnd[] };
  const held = new HeldEnd({ chunk() {}, ended: (e) => void seen.ends.push(e), cancelled() {} });
  const upstream = new Response(lines.join("")).body!;
  const body = trackBody(chunkReader(upstream), held, { closeOnError: true });
  return { body, held, seen };
}

Deno.test("mappedBody(): a mapper that fails when it flushes, after the upstream completed, ends the body as a failure", async () => {
  const { body, held, seen } = finite(["line 0\n"]);
  const mapper = new TransformStream<Uint8Array, Uint8Array>({
    transform: (chunk, out) => out.enqueue(chunk),
    flush() {
      throw new Error("ended before done");
    },
  });
  const text = await new Response(mappedBody(body, mapper, { ...options, held })).text();
  assert.equal(text, "line 0\nerror: ended before done\n");
  assert.equal(seen.ends.length, 1);
  assert.equal(seen.ends[0].outcome, "failure", "not the upstream's success");
  assert.equal((seen.ends[0] as { error: Error }).error.message, "ended before done");
});

Deno.test("mappedBody(): a completed upstream is a success once the mapped stream ended, or the client left", async () => {
  // The mapper's flush writes the last event (as Ollama's mapper writes `[DONE]`).
  const withEnd = () =>
    new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, out) => out.enqueue(chunk),
      flush: (out) => out.enqueue(enc.encode("end\n")),
    });
  for (const leave of [false, true]) {
    const { body, held, seen } = finite(["line 0\n"]);
    const reader = mappedBody(body, withEnd(), { ...options, held }).getReader();
    let text = "";
    while (!text.endsWith("end\n")) text += new TextDecoder().decode((await reader.read()).value);
    assert.equal(text, "line 0\nend\n");
    assert.deepEqual(seen.ends, [], "the upstream completed: its success is held until the mapped end");
    if (leave) await reader.cancel(new Error("client went away"));
    else assert.equal((await reader.read()).done, true);
    assert.deepEqual(seen.ends, [{ outcome: "success" }]);
  }
});

Deno.test("mappedBody(): a rewrite that ends the stream with its own error event lets the upstream go and fails the body", async () => {
  const { body, seen } = tracked();
  let failed: string | undefined;
  const rewrite = {
    push(chunk: Uint8Array) {
      if (new TextDecoder().decode(chunk) !== "line 1\n") return chunk;
      failed = "the upstream reported an error";
      return enc.encode("event: error\n\n");
    },
    end: () => undefined,
    failed: () => failed,
  };
  const text = await new Response(mappedBody(body, new TransformStream(), { ...options, rewrite })).text();
  assert.equal(text, "line 0\nevent: error\n\n", "nothing after the rewrite's error event");
  for (let i = 0; i < 10 && seen.ends.length === 0; i++) await new Promise((r) => setTimeout(r, 0));
  assert.equal(seen.ends.length, 1);
  assert.equal(seen.ends[0].outcome, "failure");
  assert.equal((seen.ends[0] as { error: Error }).error.message, "the upstream reported an error");
  assert.equal(seen.cancelled, 0, "the client did not leave");
  assert(seen.upstreamCancelled, "the upstream is let go");
});

Deno.test("HeldEnd: an upstream that completes after the mapped stream failed is not held, and ends as that failure", () => {
  const ends: string[] = [];
  const held = new HeldEnd({ chunk() {}, cancelled() {}, ended: (e) => void ends.push(e.outcome) });
  held.settle({ outcome: "failure", error: new Error("the rewrite failed first") });
  held.ended({ outcome: "success" }, []);
  assert.deepEqual(ends, ["failure"], "passed on at once, as what the client got");
});
