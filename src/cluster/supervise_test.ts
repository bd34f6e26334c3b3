/**
 * `runSupervisor()` with workers on message ports (no isolates, no socket, no signal): it holds
 * the port until every worker listens, hands one reload to all, drains them all (ending at the
 * deadline those that do not stop), and exits 1 — with every worker stopped — when one fails to
 * start. The same paths through a real process:
 * tests/workers_test.ts.
 */

import assert from "node:assert/strict";
import { type LoadResult, parseConfig } from "../config/load.ts";
import type { SignalName } from "../lifecycle/handles.ts";
import { manualSchedule } from "../../tests/fakes/manual_schedule.ts";
import { runSupervisor, type RunSupervisorOptions } from "./supervise.ts";
import { connectSupervisor } from "./workers.ts";

function configOf(model: string): LoadResult {
  return parseConfig(
    `log: { level: info, format: json }\nserver: { workers: 2 }\nmodel:\n  services:\n    chat:\n      instances:\n        - { name: ${model}, base-url: "http://127.0.0.1:9" }\n`,
    { source: "dairouter.yaml", env: {} },
  );
}

/**
 * Workers that answer as real ones do: listen on init (or fail), record reloads, stop on drain —
 * except `hung`, which never says it stopped.
 */
function fakeWorkers(failing?: number, hung?: number) {
  const reloads: string[][] = [];
  const bothReloaded = Promise.withResolvers<void>();
  const terminated: number[] = [];
  const ports: MessagePort[] = [];
  const spawnWorker = (i: number) => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    const link = connectSupervisor(port2 as never);
    reloads[i] = [];
    link.handle({
      reload(config) {
        reloads[i].push(config.services.chat.instances[0].name);
        if (reloads.every((r) => r.length > 0)) bothReloaded.resolve();
      },
      drain: () => i === hung || link.stopped(),
      collect: () => Promise.reject(new Error("not scraped here")),
    });
    void link.init.then((place) =>
      i === failing ? link.failed("port taken") : link.listening(`http://127.0.0.1:${place.port}`)
    );
    return Object.assign(port1, { terminate: () => void terminated.push(i) }) as never;
  };
  return {
    spawnWorker,
    reloads,
    bothReloaded: bothReloaded.promise,
    terminated,
    close: () => ports.forEach((p) => p.close()),
  };
}

function harness(failing?: number, hung?: number) {
  const workers = fakeWorkers(failing, hung);
  const timers = manualSchedule();
  const signals = new Map<SignalName, () => void>();
  const reserved = { port: 0, closed: false };
  const out: string[] = [];
  let loads = 0;
  const options: RunSupervisorOptions = {
    count: 2,
    loaded: configOf("m"),
    load: () => Promise.resolve(configOf(`m${++loads + 1}`)),
    file: "dairouter.yaml",
    version: "9.9.9",
    hostname: "127.0.0.1",
    port: 0,
    reservePort: (_hostname, port) => {
      reserved.port = port === 0 ? 4567 : port;
      return { port: reserved.port, close: () => void (reserved.closed = true) };
    },
    spawnWorker: workers.spawnWorker,
    stdout: (b) => (out.push(new TextDecoder().decode(b)), Promise.resolve(b.length)),
    clock: () => 0,
    schedule: timers.schedule,
    onSignal: (signal, listener) => void signals.set(signal, listener),
  };
  const logged = () => out.join("").split("\n").filter((l) => l).map((l) => JSON.parse(l));
  return { options, workers, timers, signals, reserved, logged };
}

Deno.test("runSupervisor(): holds the port until both workers listen; SIGHUP hands one config to both; SIGTERM drains both, exit 0", async () => {
  const h = harness();
  const listening = Promise.withResolvers<string>();
  const running = runSupervisor({ ...h.options, onListening: listening.resolve });
  assert.equal(await listening.promise, "http://127.0.0.1:4567");
  assert.ok(h.reserved.closed, "the reservation is released once every worker has bound the port");
  h.signals.get("SIGHUP")!();
  await h.workers.bothReloaded;
  assert.deepEqual(h.workers.reloads, [["m2"], ["m2"]]);
  h.signals.get("SIGTERM")!();
  assert.equal(await running, 0);
  const msgs = h.logged().map((l) => l.msg);
  assert.deepEqual(msgs, [
    "listening",
    "configuration handed to every worker",
    "draining every worker",
    "stopped",
  ]);
  assert.equal(h.logged()[0].workers, 2);
  h.workers.close();
});

Deno.test("runSupervisor(): watches the files of every load, as one isolate does: a change reloads, each outcome moves the set", async () => {
  const h = harness();
  const listening = Promise.withResolvers<string>();
  const told: string[] = [];
  let changed = () => {};
  let stopped = 0;
  let loads = 0;
  const running = runSupervisor({
    ...h.options,
    loaded: { ...configOf("m"), watched: ["/etc/d/app.yml"] },
    load: () =>
      ++loads === 1
        ? Promise.resolve({ ...configOf("m2"), watched: ["/etc/d/app.yml", "/etc/d/app-dev.yml"] })
        : Promise.reject(new Error("bad file")),
    watch: (onChange) => {
      changed = onChange;
      return {
        loaded: (r) => told.push(`loaded ${r.watched?.join(" ")}`),
        refused: (e) => told.push(`refused ${(e as Error).message}`),
        stop: () => stopped++,
      };
    },
    onListening: listening.resolve,
  });
  await listening.promise;
  changed();
  await h.workers.bothReloaded;
  assert.deepEqual(h.workers.reloads, [["m2"], ["m2"]]);
  changed();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(told, [
    "loaded /etc/d/app.yml",
    "loaded /etc/d/app.yml /etc/d/app-dev.yml",
    "refused bad file",
  ]);
  h.signals.get("SIGTERM")!();
  assert.equal(await running, 0);
  assert.equal(stopped, 1, "watching ends with the drain");
  assert.deepEqual(h.logged().map((l) => l.trigger).filter(Boolean), ["file change", "file change"]);
  h.workers.close();
});

Deno.test("runSupervisor(): a worker that fails to start: exit 1, the port released, every worker terminated", async () => {
  const h = harness(1);
  assert.equal(await runSupervisor(h.options), 1);
  assert.ok(h.reserved.closed);
  assert.deepEqual(h.workers.terminated, [0, 1]);
  assert.equal(h.signals.size, 0, "no signal handled by a supervisor that did not start");
  assert.match(h.logged()[0].error, /worker 2 failed to start: port taken/);
  h.workers.close();
});

Deno.test("runSupervisor(): a worker that never stops does not hold SIGTERM past drain-delay + shutdown-timeout + 2 s: exit 0, the worker ended", async () => {
  const h = harness(undefined, 1);
  const listening = Promise.withResolvers<string>();
  const running = runSupervisor({ ...h.options, onListening: listening.resolve });
  await listening.promise;
  h.signals.get("SIGTERM")!();
  await new Promise((r) => setTimeout(r, 0));
  // The config's defaults: drain-delay 5 s, shutdown-timeout 30 s.
  assert.deepEqual(h.timers.pending(), [37_000]);
  h.timers.advance(37_000);
  assert.equal(await running, 0);
  assert.deepEqual(h.workers.terminated, [0, 1]);
  const warn = h.logged().find((l) => l.msg === "workers did not stop by the deadline; ending them");
  assert.deepEqual(warn?.workers, [2]);
  h.workers.close();
});
