/**
 * The supervisor protocol of `server.workers` over real message ports (no processes): the load
 * exchange answers each worker with the others' reports, bus messages reach every other worker,
 * breaker ownership is one holder at a time until its lease ends, and a reload or drain sent while
 * a worker starts is not lost.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import type { MetricsSnapshot } from "../observe/metrics.ts";
import { superviseWorkers } from "./worker_supervisor.ts";
import { connectSupervisor, type SupervisorLink, type ToWorker } from "./workers.ts";

const config = parseConfig("model: {}\n", { source: "x.yaml", env: {} }).config;

function threeWorkers(clock: () => number) {
  const links: SupervisorLink[] = [];
  const ports: MessagePort[] = [];
  const supervisor = superviseWorkers({
    count: 3,
    port: 0,
    config,
    clock,
    schedule: () => () => {},
    logger: { info() {}, warn() {}, error() {} },
    spawn() {
      const { port1, port2 } = new MessageChannel();
      links.push(connectSupervisor(port2 as never));
      ports.push(port1, port2);
      return Object.assign(port1, { terminate: () => port1.close() }) as never;
    },
    write() {},
    adminChanged() {},
    stalled() {},
  });
  return {
    links,
    close() {
      supervisor.terminate();
      for (const p of ports) p.close();
    },
  };
}

Deno.test("superviseWorkers(): a worker's load exchange answers the other workers' reports, summed and averaged", async () => {
  const w = threeWorkers(() => 0);
  try {
    assert.deepEqual(await w.links[0].exchangeLoad([["a", 5, 100, 0]]), []);
    assert.deepEqual(await w.links[1].exchangeLoad([["a", 1, 300, 0.5], ["b", 2, 0, 0]]), [
      ["a", 5, 100, 0, 1],
    ]);
    assert.deepEqual(await w.links[2].exchangeLoad([["a", 0, 0, 0]]), [
      ["a", 6, 200, 0.25, 2],
      ["b", 2, 0, 0, 0],
    ]);
  } finally {
    w.close();
  }
});

Deno.test("superviseWorkers(): bus messages reach every other worker; a breaker has one owner until its lease ends", async () => {
  let now = 1000;
  const w = threeWorkers(() => now);
  try {
    const got: string[][] = [[], [], []];
    w.links.forEach((l, i) => l.bus.subscribe((m) => got[i].push(m)));
    w.links[0].bus.publish("open a");
    assert.equal(await w.links[1].bus.claim("brk:a", "w2", 500), null, "free: w2 takes it");
    assert.equal(await w.links[2].bus.claim("brk:a", "w3", 500), "w2");
    now += 400;
    w.links[1].bus.renew("brk:a", "w2", 500);
    await w.links[1].bus.claim("other", "w2", 1); // messages are handled in order: the renewal is in
    now += 400; // 800 ms after the claim, 400 after the renewal
    assert.equal(await w.links[2].bus.claim("brk:a", "w3", 500), "w2");
    now += 200;
    assert.equal(await w.links[2].bus.claim("brk:a", "w3", 500), null, "the lease ended: w3 takes it");
    w.links[2].bus.release("brk:a");
    assert.equal(await w.links[0].bus.claim("brk:a", "w1", 500), null);
    assert.deepEqual(got, [[], ["open a"], ["open a"]]);
  } finally {
    w.close();
  }
});

Deno.test("connectSupervisor(): a reload and a drain that come while the worker starts run once it registers its handlers", () => {
  const port = { onmessage: null as ((e: MessageEvent) => void) | null, postMessage() {} };
  const link = connectSupervisor(port);
  const send = (m: ToWorker) => port.onmessage!({ data: m } as MessageEvent);
  send({ t: "reload", config });
  send({ t: "drain", signal: "SIGTERM" });
  const seen: string[] = [];
  link.handle({
    reload: (c) => void seen.push(`reload ${c === config}`),
    drain: (signal) => void seen.push(`drain ${signal}`),
    collect: () => Promise.resolve({} as MetricsSnapshot),
  });
  assert.deepEqual(seen, ["reload true", "drain SIGTERM"]);
});
