/**
 * The reference point of issue 7: a bare `Deno.serve` + `fetch` round-robin proxy with no
 * features at all. The gateway's target is to be at least this fast with everything on; the bench
 * measures it in the same run so the comparison holds on any machine.
 *
 * Usage: `deno run --allow-net tests/bench/baseline_proxy.ts PORT UPSTREAM_URL...`; prints
 * `{"port":n}` once listening.
 *
 * @module
 */

if (import.meta.main) {
  const [portArg, ...upstreams] = Deno.args;
  if (upstreams.length === 0) throw new TypeError("Usage: baseline_proxy.ts PORT UPSTREAM_URL...");
  let next = 0;
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(portArg),
    onListen: (a) => console.log(JSON.stringify({ port: a.port })),
  }, (req) => {
    const url = new URL(req.url);
    const base = upstreams[next++ % upstreams.length];
    return fetch(base + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
    }).catch(() => new Response(null, { status: 502 })); // the client left: nothing to answer
  });
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
