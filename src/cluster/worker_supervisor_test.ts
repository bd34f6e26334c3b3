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
import { superviseWorkers, type SupervisorOptions } from "./worker_supervisor.ts";
import type { FromWorker, ToWorker, WorkerHandle } from "./workers.ts";

/** The heartbeat is off unless a test turns it on (its timer would join `pending()`). */
function configOf(
  model: string,
  server = "drain-delay: 1s, shutdown-timeout: 10s, worker-stall-timeout: 0",
): Config {
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
  /** Heartbeats received (answered with `pong` unless `silent`; not kept in `got`). */
  pings: number;
  /** Answers nothing any more, as a worker whose event loop is blocked. */
  silent: boolean;
  emit(m: FromWorker): void;
  crash(message: string): void;
}

function fakeWorker(index: number): FakeWorker {
  const w: FakeWorker = {
    index,
    got: [],
    terminated: false,
    prevented: false,
    pings: 0,
    silent: false,
    onmessage: null,
    onerror: null,
    postMessage(m) {
      if (w.terminated) return;
      if ((m as ToWorker).t !== "ping") return void w.got.push(m as ToWorker);
      w.pings++;
      if (!w.silent) w.emit({ t: "pong" });
    },
    terminate: () => void (w.terminated = true),
    emit: (m) => w.onmessage!({ data: m } as MessageEvent),
    crash(message) {
      w.onerror!({ message, preventDefault: () => void (w.prevented = true) } as ErrorEvent);
    },
  };
  return w;
}

/** Two supervised fake workers, none listening yet; the timers in the test's hands. */
function supervised(
  server: string | undefined,
  stalled: (worker: number) => void,
  logger: SupervisorOptions["logger"] = { info() {}, warn() {}, error() {} },
) {
  const t = manualSchedule();
  const spawned: FakeWorker[] = [];
  const supervisor = superviseWorkers({
    count: 2,
    port: 4567,
    config: configOf("m", server),
    spawn: (i) => (spawned.push(fakeWorker(i)), spawned.at(-1)!),
    write() {},
    logger,
    adminChanged() {},
    clock: t.now,
    schedule: t.schedule,
    stalled,
  });
  return { t, spawned, supervisor };
}

/** Two supervised fake workers, both listening; the timers and the log in the test's hands. */
function harness(server?: string) {
  const log: { level: string; msg: string; [field: string]: unknown }[] = [];
  const line = (level: string) => (msg: string, fields = {}) => void log.push({ level, msg, ...fields });
  const stalled: number[] = [];
  const { t, spawned, supervisor } = supervised(
    server,
    (w) => void stalled.push(w),
    { info: line("info"), warn: line("warn"), error: line("error") },
  );
  for (const w of spawned) w.emit({ t: "listening", address: "http://127.0.0.1:4567" });
  /** The worker in slot `index` now. */
  const current = (index: number) => spawned.findLast((w) => w.index === index)!;
  return { t, spawned, log, supervisor, current, stalled };
}

/** Two fake workers of which only the first listens yet (a start that may fail), on `server`. */
function starting(server: string, stalled: () => void) {
  const started = supervised(server, stalled);
  started.spawned[0].emit({ t: "listening", address: "http://127.0.0.1:1" });
  return started;
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
  const h = harness("drain-delay: 0, shutdown-timeout: 1s, worker-stall-timeout: 0");
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
  const { t, spawned, supervisor } = starting(
    "worker-stall-timeout: 0",
    () => assert.fail("no stall reported before the start"),
  );
  spawned[1].crash("Uncaught SyntaxError: bad");
  await assert.rejects(supervisor.listening, /worker 2 failed to start: Uncaught SyntaxError: bad/);
  assert.deepEqual(t.pending(), [], "no restart: the process exits");
});

const STALLED = "worker stopped answering; draining the other workers and exiting for a restart";

Deno.test("superviseWorkers(): a worker that stops answering the heartbeat for worker-stall-timeout is ended, logged and reported once, not replaced; the other is untouched", () => {
  const h = harness("worker-stall-timeout: 4s");
  const [a, b] = h.spawned;
  h.t.advance(10_000);
  assert.ok(a.pings >= 9 && b.pings >= 9, `pinged every second: ${a.pings}, ${b.pings}`);
  assert.equal(h.log.length, 0, "answering workers are left alone");
  a.silent = true;
  h.t.advance(3_000);
  assert.equal(a.terminated, false, "3 s of silence is within the timeout");
  h.t.advance(1_000);
  assert.ok(a.terminated, "ended as far as Deno can");
  assert.deepEqual(h.log, [{
    level: "error",
    msg: STALLED,
    event: "worker",
    worker: 1,
    error: "no answer for 4000 ms (its event loop is blocked, or it ended)",
  }]);
  assert.deepEqual(h.stalled, [1]);
  h.t.advance(60_000);
  assert.equal(h.spawned.length, 2, "no worker started in its place: its thread may still hold the port");
  assert.equal(b.terminated, false);
  assert.deepEqual(h.stalled, [1], "reported once");
});

Deno.test("superviseWorkers(): a starting worker may be silent for 30 s (loading), no longer; at the first start that fails the start", async () => {
  const h = harness("worker-stall-timeout: 2s");
  h.current(0).crash("Uncaught Error: boom");
  h.t.advance(500);
  const fresh = h.current(0);
  fresh.silent = true; // loading its modules: the heartbeat is not answered yet
  h.t.advance(29_000);
  assert.equal(fresh.terminated, false);
  h.t.advance(1_000);
  assert.ok(fresh.terminated);
  assert.equal(h.log.at(-1)?.error, "no answer for 30000 ms (its event loop is blocked, or it ended)");
  assert.deepEqual(h.stalled, [1]);

  const { t, spawned, supervisor } = starting(
    "worker-stall-timeout: 2s",
    () => assert.fail("a failed start is not a stall"),
  );
  spawned[1].silent = true;
  t.advance(30_000);
  await assert.rejects(supervisor.listening, /worker 2 failed to start: no answer for 30000 ms/);
});

Deno.test("superviseWorkers(): worker-stall-timeout 0 sends no heartbeat; a reload that sets one starts it, counting silence from then", () => {
  const h = harness();
  const [a, b] = h.spawned;
  a.silent = b.silent = true;
  h.t.advance(60_000);
  assert.deepEqual([a.pings, b.pings, a.terminated, h.t.pending()], [0, 0, false, []]);
  h.supervisor.reload(configOf("m", "worker-stall-timeout: 3s"));
  h.t.advance(2_999);
  assert.equal(a.terminated, false, "silence counts from the reload, not from the last word");
  h.t.advance(1);
  assert.ok(a.terminated && b.terminated, "both silent: both ended");
  assert.equal(h.log.filter((l) => l.msg === STALLED).length, 2);
  assert.deepEqual(h.stalled, [1], "the stall is reported once");
});

Deno.test("superviseWorkers(): a heartbeat that runs late (the main thread was blocked) judges no one; the next one does", () => {
  const h = harness("worker-stall-timeout: 4s");
  const [a, b] = h.spawned;
  h.t.advance(2_000);
  a.silent = true;
  h.t.jump(20_000); // e.g. validating a huge config: every answer waits behind the main thread
  h.t.advance(0);
  assert.equal(a.terminated, false, "the late beat only pings");
  h.t.advance(1_000);
  assert.ok(a.terminated, "a did not answer that ping: judged on the next beat");
  assert.equal(b.terminated, false, "b answered it");
});

Deno.test("superviseWorkers(): the heartbeat stops with the drain", async () => {
  const h = harness("drain-delay: 0, shutdown-timeout: 1s, worker-stall-timeout: 2s");
  const drained = h.supervisor.drain("SIGTERM");
  for (const w of h.spawned) w.silent = true;
  h.t.advance(500);
  for (const w of h.spawned) w.emit({ t: "stopped" });
  await drained;
  assert.deepEqual(h.t.pending(), [], "no beat left");
  assert.deepEqual(h.stalled, []);
});
