/**
 * The periodic renewal of `listener.ts` on hand-driven time and a fake `Deno.serve`: it waits for
 * a quiet moment, so a client reusing a keep-alive connection does not meet one being closed.
 */

import assert from "node:assert/strict";
import { type ListenerTimers, type ServeFn, serveRenewable } from "./listener.ts";

/** A fake `Deno.serve` recording the servers it made and their handler. */
function fakeServe() {
  const servers: { shutdown: number; handler: Deno.ServeHandler<Deno.NetAddr> }[] = [];
  const serve: ServeFn = (_options, handler) => {
    const rec = { shutdown: 0, handler };
    servers.push(rec);
    return {
      addr: { transport: "tcp", hostname: "127.0.0.1", port: 4000 },
      finished: new Promise<void>(() => {}),
      shutdown: () => (rec.shutdown++, Promise.resolve()),
      ref() {},
      unref() {},
      [Symbol.asyncDispose]: () => Promise.resolve(),
    } as unknown as Deno.HttpServer<Deno.NetAddr>;
  };
  return { servers, serve };
}

/** Timers driven by `advance()`: one interval is all the listener uses. */
function manualTimers() {
  let now = 0;
  let tick: { fn: () => void; ms: number; next: number } | undefined;
  const timers: ListenerTimers = {
    now: () => now,
    setInterval: (fn, ms) => (tick = { fn, ms, next: now + ms }),
    clearInterval: () => (tick = undefined),
    setTimeout: () => 0,
  };
  const advance = (ms: number) => {
    const end = now + ms;
    while (tick && tick.next <= end) {
      now = tick.next;
      tick.next += tick.ms;
      tick.fn();
    }
    now = end;
  };
  return { timers, advance };
}

const REQUEST = new Request("http://127.0.0.1/");
const INFO = {} as Deno.ServeHandlerInfo<Deno.NetAddr>;

Deno.test("serveRenewable() renews every header-timeout, but only once no request arrived for quietMs", async () => {
  const { servers, serve } = fakeServe();
  const { timers, advance } = manualTimers();
  const reasons: string[] = [];
  const listener = serveRenewable({
    hostname: "127.0.0.1",
    port: 0,
    handler: () => new Response("ok"),
    headerTimeoutMs: 1000,
    maxConnections: 0,
    quietMs: 200,
    serve,
    timers,
    onRenew: (reason) => reasons.push(reason),
  });
  advance(1000);
  assert.deepEqual(reasons, ["header-timeout"], "a quiet gateway renews on time");
  // Traffic that never pauses for 200 ms: the next renewal waits.
  for (let t = 0; t < 3000; t += 100) {
    await servers.at(-1)!.handler(REQUEST, INFO);
    advance(100);
  }
  assert.deepEqual(reasons, ["header-timeout"], "no renewal while requests keep arriving");
  advance(200);
  assert.deepEqual(reasons, ["header-timeout", "header-timeout"], "renewed at the first quiet moment");
  assert.equal(servers.length, 3);
  assert.deepEqual(servers.map((s) => s.shutdown), [1, 1, 0], "each renewal retires the previous server");
  await listener.shutdown();
});

Deno.test("serveRenewable() refuses a negative quietMs", () => {
  const { serve } = fakeServe();
  assert.throws(
    () =>
      serveRenewable({
        hostname: "127.0.0.1",
        port: 0,
        handler: () => new Response(),
        headerTimeoutMs: 1000,
        maxConnections: 0,
        quietMs: -1,
        serve,
      }),
    /"quietMs" must be >= 0, received -1/,
  );
});

Deno.test("serveRenewable() does not renew for header-timeout while a request body is being received", async () => {
  const { serve } = fakeServe();
  const { timers, advance } = manualTimers();
  const reasons: string[] = [];
  let receiving = 1;
  const listener = serveRenewable({
    hostname: "127.0.0.1",
    port: 0,
    handler: () => new Response("ok"),
    headerTimeoutMs: 1000,
    maxConnections: 0,
    receiving: () => receiving,
    serve,
    timers,
    onRenew: (reason) => reasons.push(reason),
  });
  advance(5000);
  assert.deepEqual(reasons, [], "an upload in progress would be cut by the old server's shutdown");
  receiving = 0;
  advance(1000);
  assert.deepEqual(reasons, ["header-timeout"], "renewed once it is in");
  await listener.shutdown();
});
