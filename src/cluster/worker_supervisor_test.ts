/**
 * `superviseWorkers()` with fake worker handles (no isolates) and hand-driven timers: a worker
 * that fails is logged and replaced after a backoff, without touching the others; nothing the
 * supervisor waits on — a scrape, a drain — waits on a worker that is gone, or past its deadline.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { createMetrics } from "../observe/metrics.ts";
import { manualSchedule } from "../../tests/fakes/manual_schedule.ts";
import { superviseWorkers } from "./worker_supervisor.ts";
import type { FromWorker, ToWorker, WorkerHandle } from "./workers.ts";

function configOf(model: string, server = "drain-delay: 1s, shutdown-timeout: 10s"): Config {
  return parseConfig(
    `server: { workers: 2, ${server} }\nmodel:\n  services:\n    chat:\n      instances:\n        - { name: ${model}, base-url: "http://127.0.0.1:9" }\n`,
    { source: "dairouter.yaml", env: {} },
  ).config;
}

/** A worker as the supervisor sees it: what it was sent, and hands to make it speak or crash. */
interface FakeWorker extends WorkerHandle {
  readonly index: number;
  readonly got: ToWorker[];
  terminated: boolean;
  /** Whether the supervisor kept the error from ending the process. */
  prevented: boolean;
  emit(m: FromWorker): void;
  crash(message: string): void;
}

function fakeWorker(index: number): FakeWorker {
  const w: FakeWorker = {
    index,
    got: [],
    terminated: false,
    prevented: false,
    onmessage: null,
    onerror: null,
    postMessage(m) {
      if (!w.terminated) w.got.push(m as ToWorker);
    },
    terminate: () => void (w.terminated = true),
    emit: (m) => w.onmessage!({ data: m } as MessageEvent),
    crash(message) {
      w.onerror!({ message, preventDefault: () => void (w.prevented = true) } as ErrorEvent);
    },
  };
  return w;
}

/** Two supervised fake workers, both listening; the timers and the log in the test's hands. */
function harness(server?: string) {
  const t = manualSchedule();
  const spawned: FakeWorker[] = [];
  const log: { level: string; msg: string; [field: string]: unknown }[] = [];
  const line = (level: string) => (msg: string, fields = {}) => void log.push({ level, msg, ...fields });
  const supervisor = superviseWorkers({
    count: 2,
    port: 4567,
    config: configOf("m", server),
    spawn: (i) => (spawned.push(fakeWorker(i)), spawned.at(-1)!),
    write() {},
    logger: { info: line("info"), warn: line("warn"), error: line("error") },
    adminChanged() {},
    clock: t.now,
    schedule: t.schedule,
  });
  for (const w of spawned) w.emit({ t: "listening", address: "http://127.0.0.1:4567" });
  /** The worker in slot `index` now. */
  const current = (index: number) => spawned.findLast((w) => w.index === index)!;
  return { t, spawned, log, supervisor, current };
}

const kinds = (w: FakeWorker) => w.got.map((m) => m.t);

Deno.test("superviseWorkers(): an uncaught error in a worker is logged once, and a fresh worker takes its place on the config in force; the other is untouched", async () => {
  const h = harness();
  await h.supervisor.listening;
  h.supervisor.reload(configOf("m2"));
  const [first, other] = h.spawned;
  first.crash("Uncaught (in promise) Error: boom");
  assert.ok(first.prevented, "the error does not end the process");
  assert.ok(first.terminated);
  assert.deepEqual(h.log, [{
    level: "error",
    msg: "worker failed; starting a fresh one",
    event: "worker",
    worker: 1,
    error: "Uncaught (in promise) Error: boom",
    restartInMs: 500,
  }]);
  h.t.advance(499);
  assert.equal(h.spawned.length, 2);
  h.t.advance(1);
  assert.equal(h.spawned.length, 3);
  const fresh = h.current(0);
  const init = fresh.got[0] as Extract<ToWorker, { t: "init" }>;
  assert.deepEqual([init.index, init.count, init.port], [0, 2, 4567]);
  assert.equal(init.config?.services.chat.instances[0].name, "m2", "the config in force, not the file");
  fresh.emit({ t: "listening", address: "http://127.0.0.1:4567" });
  assert.deepEqual(h.log.at(-1), { level: "info", msg: "worker restarted", event: "worker", worker: 1 });
  assert.deepEqual(kinds(other), ["init", "reload"], "the other worker saw nothing of it");
  assert.equal(other.terminated, false);
});

Deno.test("superviseWorkers(): a worker that fails again as it starts waits 0.5, 1, 2 … up to 30 s; one that ran a minute restarts after 0.5 s", () => {
  const h = harness();
  h.current(0).crash("Uncaught Error: boom");
  const delays: number[] = [];
  for (let i = 0; i < 9; i++) {
    delays.push(h.t.pending()[0]);
    h.t.runNext();
    h.current(0).emit({ t: "failed", error: "exit code 1" });
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  h.t.runNext();
  h.current(0).emit({ t: "listening", address: "http://127.0.0.1:4567" });
  h.t.advance(60_000);
  h.current(0).crash("Uncaught Error: later");
  assert.deepEqual(h.t.pending(), [500]);
  assert.equal(h.current(1).terminated, false);
});

Deno.test("superviseWorkers(): /metrics answers with the serving workers' metrics — never waiting on a gone worker, and on a hung one 2 s at most", async () => {
  const h = harness();
  const [a, b] = h.spawned;
  const metrics = createMetrics();
  metrics.recordRetry("chat", "m", "i");
  const snapshot = await metrics.snapshot();
  const answer = async (w: FakeWorker) => {
    await new Promise((r) => setTimeout(r, 0)); // aggregation is asynchronous
    return w.got.filter((m) => m.t === "metrics").map((m) => (m as { text: string }).text);
  };
  const collectId = (w: FakeWorker) => (w.got.findLast((m) => m.t === "collect") as { id: number }).id;

  // b hangs: a (the asker) gets its own part at the deadline, and the log names b.
  a.emit({ t: "metrics?", id: 7 });
  a.emit({ t: "collected", id: collectId(a), data: snapshot });
  h.t.advance(1999);
  assert.deepEqual(await answer(a), []);
  h.t.advance(1);
  assert.match((await answer(a))[0], /dairouter_retries_total\{[^}]*\} 1$/m);
  assert.equal((a.got.at(-1) as { id: number }).id, 7, "the asker's own id");
  assert.deepEqual(h.log.at(-1), {
    level: "warn",
    msg: "metrics answered without workers that did not reply in time",
    event: "worker",
    workers: [2],
  });

  // b fails mid-scrape: answered at once; while b waits for its restart it is not even asked.
  a.emit({ t: "metrics?", id: 8 });
  a.emit({ t: "collected", id: collectId(a), data: snapshot });
  b.crash("Uncaught Error: boom");
  assert.equal((await answer(a)).length, 2);
  a.emit({ t: "metrics?", id: 9 });
  a.emit({ t: "collected", id: collectId(a), data: snapshot });
  assert.equal((await answer(a)).length, 3);
  assert.deepEqual(h.t.pending(), [500], "no scrape deadline left waiting: only the restart");
});

Deno.test("superviseWorkers(): a drain does not restart a failed worker, waits for the others, and ends at drain-delay + shutdown-timeout + 2 s", async () => {
  const h = harness();
  const [a, b] = h.spawned;
  a.crash("Uncaught Error: boom");
  let stopped = false;
  const drained = h.supervisor.drain("SIGTERM").then(() => (stopped = true));
  assert.deepEqual(kinds(b).at(-1), "drain");
  h.t.advance(500);
  assert.equal(h.spawned.length, 2, "no fresh worker while stopping");
  // b never says it stopped (hung, or gone without a word): ended at 1 s + 10 s + 2 s.
  h.t.advance(12_499);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(stopped, false);
  h.t.advance(1);
  await drained;
  assert.ok(b.terminated);
  assert.deepEqual(h.log.at(-1), {
    level: "warn",
    msg: "workers did not stop by the deadline; ending them",
    event: "stop",
    workers: [2],
  });
});

Deno.test("superviseWorkers(): a worker restarting at SIGTERM is told to drain and waited on; the drain ends once both have stopped", async () => {
  const h = harness("drain-delay: 0, shutdown-timeout: 1s");
  h.current(0).crash("Uncaught Error: boom");
  h.t.advance(500);
  const fresh = h.current(0); // started, not yet listening
  const drained = h.supervisor.drain("SIGTERM");
  assert.deepEqual(kinds(fresh), ["init", "drain"]);
  h.current(1).emit({ t: "stopped" });
  fresh.emit({ t: "stopped" });
  await drained;
  assert.deepEqual(h.t.pending(), [], "the deadline is cancelled");
  assert.ok(!h.log.some((l) => l.msg.includes("deadline")));
});

Deno.test("superviseWorkers(): an uncaught error before every worker listens fails the start", async () => {
  const t = manualSchedule();
  const spawned: FakeWorker[] = [];
  const supervisor = superviseWorkers({
    count: 2,
    port: 0,
    config: configOf("m"),
    spawn: (i) => (spawned.push(fakeWorker(i)), spawned.at(-1)!),
    write() {},
    logger: { info() {}, warn() {}, error() {} },
    adminChanged() {},
    clock: t.now,
    schedule: t.schedule,
  });
  spawned[0].emit({ t: "listening", address: "http://127.0.0.1:1" });
  spawned[1].crash("Uncaught SyntaxError: bad");
  await assert.rejects(supervisor.listening, /worker 2 failed to start: Uncaught SyntaxError: bad/);
  assert.deepEqual(t.pending(), [], "no restart: the process exits");
});
