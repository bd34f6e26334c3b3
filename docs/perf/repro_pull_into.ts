/**
 * Deno keeps a request body's last read buffer for as long as the request lives. A `Deno.serve`
 * request body is a byte stream; a default reader's read makes Deno allocate a 64 KiB buffer for
 * it (a pending pull-into). When that read is the one that finds the end, the stream closes but
 * the pull-into stays on its controller, so the 64 KiB stay reachable from the request until the
 * response is done — for an LLM stream, minutes, per open stream.
 *
 * Each of N requests sends a body of 200 KB (more than one read), the handler reads it to the end
 * and answers with a stream that stays open; with every stream open, garbage is collected and the
 * JS heap plus external memory compared with before. `end=default` reads the end with the default
 * reader (as `req.arrayBuffer()` and a read loop do), `end=byob` reads the last declared bytes'
 * end through a one-byte BYOB view, as `src/http/body_guard.ts` does.
 *
 * Run: `deno run -A --v8-flags=--expose-gc docs/perf/repro_pull_into.ts [N=200] [end=default|byob]`
 *
 * Measured (Deno 2.9.6, both ends in one process): default 71–73 KB per open request, byob 10 KB —
 * the 64 KiB buffer and its bookkeeping. A fix in Deno: drop (or
 * respond 0 to) the pending pull-into when a byte stream fed by a resource closes
 * (`readableStreamForRid` in `ext/web/06_streams.js`), as the spec's respond-in-closed-state does.
 *
 * @module
 */

const N = Number(Deno.args[0] ?? 200);
const END = Deno.args[1] ?? "default";
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const BODY = new Uint8Array(200_000).fill(120);
const EVENT = new TextEncoder().encode("data: {}\n\n");

async function readAll(body: ReadableStream<Uint8Array>, declared: number): Promise<number> {
  const reader = body.getReader();
  let size = 0;
  while (size < declared) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
  }
  if (END === "byob") {
    reader.releaseLock();
    await body.getReader({ mode: "byob" }).read(new Uint8Array(1));
  } else {
    await reader.read();
  }
  return size;
}

const open: ReadableStreamDefaultController<Uint8Array>[] = [];
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  await readAll(req.body!, Number(req.headers.get("content-length")));
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      open.push(c);
      c.enqueue(EVENT);
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
});
const url = `http://127.0.0.1:${server.addr.port}/`;
const memory = () => {
  gc!();
  gc!();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
};

async function openStreams(n: number) {
  const readers = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { method: "POST", body: BODY });
    const reader = res.body!.getReader();
    await reader.read();
    readers.push(reader);
  }
  return readers;
}

for (const r of await openStreams(5)) await r.cancel(); // warm up
open.length = 0;
const before = memory();
const readers = await openStreams(N);
const kept = memory() - before;
console.log(`end=${END}: ${N} open requests keep ${(kept / N / 1024).toFixed(1)} KB each`);
for (const r of readers) await r.cancel();
await server.shutdown();
