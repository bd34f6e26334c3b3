/**
 * The floor of a proxy that must *see* what it relays (issue 12): the smallest `Deno.serve` +
 * `fetch` proxy that does what the gateway's semantics require of every request and nothing else —
 * read the request body (to route by `model`), parse it as JSON, send the bytes upstream with a
 * copied header set, read the upstream's JSON answer whole (for usage accounting) and answer with
 * a new `Response` carrying it. Compare it with `tests/bench/baseline_proxy.ts`, which hands
 * `req.body` and the upstream `Response` through untouched (Deno pipes both natively, no JS per
 * byte): the difference is what Deno charges for looking at the bytes, before any gateway logic.
 *
 * Usage: `deno run --allow-net docs/perf/repro_reading_proxy.ts PORT UPSTREAM_URL...`, then load
 * it like the baseline proxy (see docs/perf/README.md for the numbers and the command lines).
 *
 * @module
 */

if (import.meta.main) {
  const [portArg, ...upstreams] = Deno.args;
  if (upstreams.length === 0) throw new TypeError("Usage: repro_reading_proxy.ts PORT UPSTREAM_URL...");
  const decoder = new TextDecoder();
  let next = 0;
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(portArg),
    onListen: (a) => console.log(JSON.stringify({ port: a.port })),
  }, async (req) => {
    const url = new URL(req.url);
    const bytes = await req.bytes();
    const body = JSON.parse(decoder.decode(bytes)) as { model?: unknown };
    if (typeof body.model !== "string") return new Response(null, { status: 400 });
    const base = upstreams[next++ % upstreams.length];
    try {
      const res = await fetch(base + url.pathname + url.search, {
        method: req.method,
        headers: { "content-type": req.headers.get("content-type") ?? "application/json" },
        body: bytes,
        signal: req.signal,
      });
      const answer = await res.bytes();
      return new Response(answer, {
        status: res.status,
        headers: { "content-type": res.headers.get("content-type") ?? "application/json" },
      });
    } catch {
      return new Response(null, { status: 502 }); // the client left
    }
  });
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
