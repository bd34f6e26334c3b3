/**
 * How much CPU a JS relay of a streamed `fetch` body costs in `Deno.serve`, against Deno's native
 * pipe (`new Response(upstream.body)`), on one process each for upstream, proxy and client.
 *
 *   deno run -A docs/perf/relay_floor.ts [native|js|byob|tracked|transform|gateway ...]
 *
 * The upstream plays SSE streams of 50 chunks (~180 bytes) 2 ms apart (env CHUNKS, GAP_MS), the
 * first sent with the headers; 32 clients (env CONC) loop over them for 8 s and time each stream's
 * first body chunk (TTFB p50); the proxy's CPU (user + system, /proc) is divided by
 * the chunks of the streams that completed (streams longer than the window: 0 streams, but the
 * RSS at 6 s is the cost of that many open streams). `gateway` is `main.ts` with a one-instance
 * chat service on that upstream (env GATEWAY_CONFIG, default /tmp/relay_floor_gateway.yaml, with
 * `server.port: 18092` and the instance at `http://127.0.0.1:18091`). `PIN=1` runs the servers on
 * CPU 0 and the clients on CPU 1 (`taskset`), as `deno task bench` does.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { chunkReader } from "../../src/proxy/chunk_reader.ts";
import { trackBody } from "../../src/proxy/tracked_body.ts";

const CHUNKS = Number(Deno.env.get("CHUNKS") ?? 50);
const GAP_MS = Number(Deno.env.get("GAP_MS") ?? 2);
const CONC = Deno.env.get("CONC") ?? "32";
const GATEWAY_CONFIG = Deno.env.get("GATEWAY_CONFIG") ?? "/tmp/relay_floor_gateway.yaml";
const CHUNK = new TextEncoder().encode(
  `data: ${JSON.stringify({ choices: [{ delta: { content: "x".repeat(120) } }] })}\n\n`,
);
const [role, ...rest] = Deno.args;

if (role === "upstream") {
  const live = new Set<{ c: ReadableStreamDefaultController<Uint8Array>; n: number }>();
  setInterval(() => {
    for (const s of live) {
      s.c.enqueue(CHUNK);
      if (++s.n === CHUNKS) {
        s.c.close();
        live.delete(s);
      }
    }
  }, GAP_MS);
  Deno.serve({ hostname: "127.0.0.1", port: Number(rest[0]), onListen() {} }, () => {
    let s: { c: ReadableStreamDefaultController<Uint8Array>; n: number };
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        // The first chunk goes out with the headers, so a proxy's time to first byte is its own.
        c.enqueue(CHUNK);
        s = { c, n: 1 };
        live.add(s);
      },
      cancel() {
        live.delete(s);
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
} else if (role === "client") {
  const [port, conc, secs] = rest.map(Number);
  const end = performance.now() + secs * 1000;
  let streams = 0;
  const firsts: number[] = [];
  const signal = AbortSignal.timeout(secs * 1000 + 500); // streams longer than the window are cut
  await Promise.all(Array.from({ length: conc }, async () => {
    while (performance.now() < end) {
      try {
        const t0 = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"model":"bench","stream":true,"messages":[{"role":"user","content":"hi"}]}',
          signal,
        });
        const reader = res.body!.getReader();
        if (!(await reader.read()).done) firsts.push(performance.now() - t0);
        while (!(await reader.read()).done);
        streams++;
      } catch {
        return;
      }
    }
  }));
  firsts.sort((a, b) => a - b);
  console.log(`${streams} ${firsts[firsts.length >> 1] ?? NaN}`);
} else if (role === "proxy") {
  const [mode, upPort, port] = rest;
  const up = `http://127.0.0.1:${upPort}/`;
  const observer = { chunk() {}, ended() {}, cancelled() {} };
  Deno.serve({ hostname: "127.0.0.1", port: Number(port), onListen() {} }, async (req) => {
    if (req.url.endsWith("/cpu")) return Response.json({ ...cpuUsage(), ...Deno.memoryUsage() });
    await req.arrayBuffer();
    const res = await fetch(up, { method: "POST", body: "{}" });
    const body = res.body!;
    if (mode === "native") return new Response(body, { headers: res.headers });
    if (mode === "transform") {
      return new Response(body.pipeThrough(new TransformStream()), { headers: res.headers });
    }
    if (mode === "js") {
      const reader = body.getReader();
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(c) {
            const { done, value } = await reader.read();
            if (done) c.close();
            else c.enqueue(value);
          },
          cancel: (r) => reader.cancel(r),
        }, { highWaterMark: 0 }),
        { headers: res.headers },
      );
    }
    if (mode === "byob") {
      const reader = chunkReader(body);
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(c) {
            const value = await reader.read();
            if (value === undefined) c.close();
            else c.enqueue(value);
          },
          cancel: (r) => reader.cancel(r),
        }, { highWaterMark: 0 }),
        { headers: res.headers },
      );
    }
    // tracked: the gateway's relay with its first chunk read before the response
    const reader = chunkReader(body);
    const first = await reader.read();
    return new Response(trackBody(reader, observer, { first }), { headers: res.headers });
  });
} else {
  const self = new URL(import.meta.url).pathname;
  // PIN=1: the servers on CPU 0 and the client on CPU 1, as `deno task bench` does (`taskset`).
  const pin = Deno.env.get("PIN") === "1";
  const command = (cpu: string, args: string[], stdout: "piped" | "null") =>
    pin
      ? new Deno.Command("taskset", { args: ["-c", cpu, Deno.execPath(), ...args], stdout, stderr: stdout })
      : new Deno.Command(Deno.execPath(), { args, stdout, stderr: stdout === "null" ? "null" : "inherit" });
  const spawn = (...args: string[]) =>
    command(args[0] === "client" ? "1" : "0", ["run", "-A", self, ...args], "piped").spawn();
  /** utime + stime (µs) and RSS (bytes) of `pid`, from /proc (Linux). */
  const stat = (pid: number) => {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    const rss = Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) * 1024;
    return { cpu: (Number(f[11]) + Number(f[12])) * 10_000, rss };
  };
  const heap = async () => {
    try {
      const m = await (await fetch("http://127.0.0.1:18092/cpu")).json();
      if (typeof m.heapUsed !== "number") return "";
      return `, JS heap ${(m.heapUsed / 1e6).toFixed(0)} MB, external ${(m.external / 1e6).toFixed(0)} MB`;
    } catch {
      return "";
    }
  };
  for (const mode of role ? [role, ...rest] : ["native", "js", "byob", "tracked", "transform"]) {
    const upstream = spawn("upstream", "18091");
    // `gateway`: the real one (main.ts) with a one-instance chat service on the same upstream.
    const proxy = mode === "gateway"
      ? command("0", [
        "run",
        "-A",
        new URL("../../main.ts", import.meta.url).pathname,
        "--config",
        GATEWAY_CONFIG,
      ], "null")
        .spawn()
      : spawn("proxy", mode, "18091", "18092");
    await new Promise((r) => setTimeout(r, 2500));
    await (await spawn("client", "18092", "8", "2").output()); // warm-up
    const s0 = stat(proxy.pid);
    const client = spawn("client", "18092", CONC, "8").output();
    await new Promise((r) => setTimeout(r, 6000));
    const rss = stat(proxy.pid).rss;
    const mem = await heap();
    const out = new TextDecoder().decode((await client).stdout);
    const s1 = stat(proxy.pid);
    const [streams, ttfb] = out.trim().split(" ").map(Number);
    console.log(
      `${mode.padEnd(10)} ${streams} streams, ${
        ((s1.cpu - s0.cpu) / streams / CHUNKS).toFixed(2)
      } µs CPU per chunk, TTFB p50 ${ttfb.toFixed(2)} ms; ` +
        `at 6 s: RSS ${(rss / 1e6).toFixed(0)} MB${mem}`,
    );
    proxy.kill();
    upstream.kill();
    await Promise.all([proxy.status, upstream.status]);
  }
}
