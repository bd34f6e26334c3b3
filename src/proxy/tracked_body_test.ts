import assert from "node:assert/strict";
import { chunkReader } from "./chunk_reader.ts";
import { type BodyEnd, trackBody } from "./tracked_body.ts";
import { concat, endsWithDone } from "./upstream_body.ts";
import { usageFromTail } from "./usage.ts";

function source(parts: string[], failAfter?: number) {
  let i = 0;
  return chunkReader(
    new ReadableStream<Uint8Array>({
      pull(c) {
        if (failAfter !== undefined && i === failAfter) return c.error(new Error("reset"));
        if (i >= parts.length) return c.close();
        c.enqueue(new TextEncoder().encode(parts[i++]));
      },
    }),
  );
}

Deno.test("trackBody() relays every chunk and reports success once with its last 2 KiB, two chunks at least", async () => {
  const ends: BodyEnd[] = [];
  let tail: readonly Uint8Array[] = [];
  let chunks = 0;
  const big = "x".repeat(3000);
  const small = Array.from({ length: 40 }, (_, i) => `${i}`.padStart(100, "."));
  const body = trackBody(source(["a", big, "b", ...small, big, "c", "d"]), {
    chunk: () => chunks++,
    ended: (e, t) => (ends.push(e), (tail = t)),
    cancelled: () => {},
  });
  assert.equal((await new Response(body).text()).length, 2 + 3000 * 2 + 4000 + 2);
  assert.deepEqual(ends, [{ outcome: "success" }]);
  assert.deepEqual(tail.map((t) => t.byteLength), [3000, 1, 1], "the fewest last chunks that hold 2 KiB");
  assert.equal(chunks, 46, "every chunk re-arms the idle watch");

  // A usage event that came in many small pieces is still whole in the tail.
  let pieces: readonly Uint8Array[] = [];
  const usage = 'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9}}\n\ndata: [DONE]\n\n';
  const split = trackBody(source(usage.match(/.{1,3}/gs)!), {
    chunk() {},
    ended: (_e, t) => void (pieces = t),
    cancelled: () => {},
  });
  await new Response(split).text();
  assert.equal(pieces.map((t) => new TextDecoder().decode(t)).join(""), usage);
});

Deno.test("trackBody() ends an SSE stream that fails mid-way with an error event instead of an error", async () => {
  const ends: string[] = [];
  const body = trackBody(source(["data: 1\n\n"], 1), {
    chunk() {},
    ended: (e) => ends.push(e.outcome),
    cancelled: () => {},
  }, { errorEvent: () => new TextEncoder().encode('data: {"error":1}\n\n') });
  assert.equal(await new Response(body).text(), 'data: 1\n\ndata: {"error":1}\n\n');
  assert.deepEqual(ends, ["failure"]);
});

Deno.test("trackBody() reports a client cancel once as an abort and cancels the upstream", async () => {
  const ends: string[] = [];
  let cancelled = 0;
  const body = trackBody(source(["a", "b", "c"]), {
    chunk() {},
    ended: (e) => ends.push(e.outcome),
    cancelled: () => cancelled++,
  });
  const reader = body.getReader();
  await reader.read();
  await reader.cancel();
  assert.deepEqual(ends, ["abort"]);
  assert.equal(cancelled, 1);
});

Deno.test("trackBody() ends once as a failure, with the error event, when its filter throws", async () => {
  const ends: BodyEnd[] = [];
  let cancelled = false;
  const reader = chunkReader(
    new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new TextEncoder().encode("x")),
      cancel: () => void (cancelled = true),
    }),
  );
  let n = 0;
  const body = trackBody(reader, { chunk() {}, ended: (e) => ends.push(e), cancelled() {} }, {
    errorEvent: (e) => new TextEncoder().encode(`[${(e as Error).message}]`),
    filter: {
      push: (c) => {
        if (++n === 3) throw new Error("bug");
        return c;
      },
      end: () => undefined,
    },
  });
  assert.equal(await new Response(body).text(), "xx[bug]");
  assert.deepEqual(ends.map((e) => e.outcome), ["failure"]);
  assert(cancelled, "the upstream is let go");
});

Deno.test("trackBody() ends a body the gateway stopped as a failure with the error event, even when its read settles as an end", async () => {
  const ends: string[] = [];
  let reason: unknown = undefined;
  // What Deno does now and then when a fetch is aborted: the pending read resolves as an end.
  const reader = chunkReader(
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("data: 1\n\n"));
      },
      pull: () => new Promise(() => {}), // silent after the first chunk
    }),
  );
  const body = trackBody(reader, {
    chunk() {},
    ended: (e) => ends.push(e.outcome),
    cancelled: () => {},
    stopped: () => reason,
  }, { errorEvent: (e) => new TextEncoder().encode(`data: {"error":"${(e as Error).message}"}\n\n`) });
  const text = new Response(body).text();
  await new Promise((r) => setTimeout(r, 0));
  reason = new DOMException("upstream idle timeout", "TimeoutError");
  await reader.cancel(reason); // the attempt lets the upstream go: the pending read settles
  assert.equal(await text, 'data: 1\n\ndata: {"error":"upstream idle timeout"}\n\n');
  assert.deepEqual(ends, ["failure"]);
});

Deno.test("trackBody() ends as a failure when its filter ended the stream with its own error event", async () => {
  for (const at of ["push", "end"] as const) {
    const ends: BodyEnd[] = [];
    let failed: string | undefined;
    let cancelled = false;
    let i = 0;
    const upstream = new ReadableStream<Uint8Array>({
      pull: (c) => (i++ < 2 || at === "push") ? c.enqueue(new TextEncoder().encode(`${i} `)) : c.close(),
      cancel: () => void (cancelled = true),
    });
    const body = trackBody(chunkReader(upstream), {
      chunk() {},
      ended: (e) => ends.push(e),
      cancelled() {},
    }, {
      filter: {
        push: (c) => {
          if (at === "push" && new TextDecoder().decode(c) === "2 ") {
            failed = "the upstream reported an error";
          }
          return failed ? new TextEncoder().encode("error!") : c;
        },
        end: () => (failed = "cut before its finish", new TextEncoder().encode("error!")),
        failed: () => failed,
      },
    });
    assert.equal(await new Response(body).text(), at === "push" ? "1 error!" : "1 2 error!", at);
    assert.equal(ends.length, 1, at);
    assert.equal(ends[0].outcome, "failure", at);
    assert.match(
      (ends[0] as { error: Error }).error.message,
      at === "push" ? /reported an error/ : /cut before/,
    );
    assert.equal(cancelled, at === "push", `the upstream is let go when it still streams (${at})`);
  }
});

Deno.test("trackBody()'s tail stays a few objects when the upstream trickles 1-byte chunks, and still reads whole", async () => {
  const enc = new TextEncoder();
  const text = "x".repeat(50_000) +
    'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9}}\n\ndata: [DONE]\n\n';
  let i = 0;
  const reader = chunkReader(
    new ReadableStream<Uint8Array>({
      pull(c) {
        if (i >= text.length) return c.close();
        c.enqueue(enc.encode(text[i++]));
      },
    }),
  );
  let tail: readonly Uint8Array[] = [];
  const body = trackBody(reader, { chunk() {}, ended: (_e, t) => void (tail = t), cancelled() {} });
  await new Response(body).arrayBuffer();
  assert.ok(tail.length <= 16, `${tail.length} pieces`);
  const bytes = tail.reduce((n, c) => n + c.byteLength, 0);
  assert.ok(bytes >= 2048 && bytes <= 2048 + 16, `${bytes} bytes`);
  assert.equal(
    new TextDecoder().decode(concat([...tail])),
    text.slice(-bytes),
    "the stream's last bytes, in order",
  );
  assert.deepEqual(usageFromTail(tail), { tokensIn: 7, tokensOut: 9 });
  assert.ok(endsWithDone(tail));
});
