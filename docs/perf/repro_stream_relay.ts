/**
 * The floor of a relay that must *see* each chunk of a stream (issue 12): usage accounting, the
 * SSE error event on a broken upstream and the idle deadline all need the chunks in JavaScript,
 * so the gateway cannot hand the upstream body to `Deno.serve` untouched (which Deno pipes
 * natively, with no JavaScript per chunk). This is the least such a relay can do: read each chunk
 * with one reused BYOB buffer (as `src/proxy/chunk_reader.ts` does), copy it out, and enqueue it
 * into the `ReadableStream` the response is built on. Nothing else: no parsing, no counters.
 *
 * It takes the gateway's command line so the bench can run it in the gateway's place:
 *
 *     deno task bench --quick --scenario stream-c32,chat-c64 --main docs/perf/repro_stream_relay.ts
 *
 * (`--config FILE` is read for the instances' `base-url`s; `/healthz` answers; `/metrics` does not
 * exist, so the bench reports 0 counted requests.) With `--native` it returns the upstream
 * `Response` as it came, which is the bare proxy's native pipe, for an A/B in the same harness.
 *
 * @module
 */

function argOf(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

/** Relays `body` chunk by chunk through JavaScript. */
function relay(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader({ mode: "byob" });
  let buffer = new Uint8Array(8192);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read(buffer);
        if (done) return controller.close();
        buffer = new Uint8Array(value.buffer);
        if (value.byteLength > 0) return controller.enqueue(value.slice());
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

if (import.meta.main) {
  const yaml = await Deno.readTextFile(argOf("--config") ?? "");
  const upstreams = [...yaml.matchAll(/base-url:\s*"([^"]+)"/g)].map((m) => m[1]);
  const unique = [...new Set(upstreams)];
  const native = Deno.args.includes("--native");
  let next = 0;
  Deno.serve({
    hostname: argOf("--host") ?? "127.0.0.1",
    port: Number(argOf("--port") ?? 8080),
    onListen: () => {},
  }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    const bytes = await req.bytes();
    try {
      const res = await fetch(unique[next++ % unique.length] + url.pathname, {
        method: req.method,
        headers: { "content-type": req.headers.get("content-type") ?? "application/json" },
        body: bytes,
        signal: req.signal,
      });
      if (native || !res.body) return res;
      return new Response(relay(res.body), { status: res.status, headers: res.headers });
    } catch {
      return new Response(null, { status: 502 });
    }
  });
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
