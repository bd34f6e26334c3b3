// The prober's schedule, deadlines and error paths under a fake clock and scheduler. The fetch here
// is a stand-in that answers when told to; real HTTP behaviour is covered in prober_test.ts.
import assert from "node:assert/strict";
import { createHealthState } from "./health_state.ts";
import {
  createProber,
  type ProbeOutcome,
  type ProberOptions,
  type ProbeTarget,
  type Schedule,
} from "./prober.ts";

/** Lets pending probe promises run to completion (they only chain microtasks here). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A fake clock with a timer queue; `advance()` fires due timers in time order. */
function fakeTime() {
  let now = 1_000;
  let seq = 0;
  const timers: { at: number; seq: number; fn: () => void }[] = [];
  const schedule: Schedule = (fn, ms) => {
    const t = { at: now + ms, seq: seq++, fn };
    timers.push(t);
    return () => {
      const i = timers.indexOf(t);
      if (i >= 0) timers.splice(i, 1);
    };
  };
  return {
    clock: () => now,
    schedule,
    pending: () => timers.map((t) => t.at - now).sort((a, b) => a - b),
    /** Jumps the clock without firing timers (a blocked event loop). */
    jump(ms: number) {
      now += ms;
    },
    async advance(ms: number) {
      const end = now + ms;
      await settle();
      for (;;) {
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        // An overdue timer fires late, at the current time, as a real event loop would.
        now = Math.max(now, next.at);
        next.fn();
        await settle();
      }
      now = end;
    },
  };
}

/** A fetch whose calls stay pending until answered or aborted. */
function manualFetch() {
  const calls: { url: string; answer: (status: number) => void }[] = [];
  const fetchFn =
    ((input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((resolve, reject) => {
        const signal = init?.signal;
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        calls.push({ url: String(input), answer: (status) => resolve(new Response("x", { status })) });
      })) as typeof fetch;
  return { fetch: fetchFn, calls };
}

function target(id: string): ProbeTarget {
  return {
    id,
    request: () => ({ url: `http://127.0.0.1:1/${id}`, method: "GET", headers: new Headers() }),
    state: createHealthState({ healthyThreshold: 1, unhealthyThreshold: 1, passiveFailures: 1 }),
  };
}

function setup(extra: Partial<ProberOptions> = {}) {
  const time = fakeTime();
  const net = manualFetch();
  const outcomes: ProbeOutcome[] = [];
  const errors: unknown[] = [];
  const targets = [target("a")];
  const prober = createProber({
    fetch: net.fetch,
    clock: time.clock,
    schedule: time.schedule,
    intervalMs: 1_000,
    timeoutMs: 300,
    targets: () => targets,
    onProbe: (o) => outcomes.push(o),
    onError: (e) => errors.push(e),
    ...extra,
  });
  return { time, net, outcomes, errors, targets, prober };
}

Deno.test("start() probes at once, then every intervalMs at a fixed rate", async () => {
  const { time, net, prober } = setup();
  prober.start();
  assert.equal(net.calls.length, 1);
  net.calls[0].answer(200);
  await time.advance(999);
  assert.equal(net.calls.length, 1);
  await time.advance(1);
  assert.equal(net.calls.length, 2);
  net.calls[1].answer(200);
  await time.advance(2_000);
  assert.equal(net.calls.length, 4);
  await prober.stop();
});

Deno.test("a tick that finds the previous round running is skipped, not overlapped", async () => {
  const { time, net, prober } = setup({ timeoutMs: 2_500 });
  prober.start();
  await time.advance(2_000); // two ticks while the first probe is still pending
  assert.equal(net.calls.length, 1);
  assert.equal(prober.skipped, 2);
  net.calls[0].answer(200);
  await time.advance(1_000);
  assert.equal(net.calls.length, 2);
  await prober.stop();
});

Deno.test("the per-probe deadline fires after timeoutMs and counts as a failure", async () => {
  const { time, outcomes, targets, prober } = setup();
  const round = prober.runOnce();
  await time.advance(299);
  assert.equal(outcomes.length, 0);
  await time.advance(1);
  const [outcome] = await round;
  assert.deepEqual([outcome.result, outcome.detail, outcome.durationMs], [
    "down",
    "timeout after 300 ms",
    300,
  ]);
  assert.equal(targets[0].state.healthy, false);
  assert.deepEqual(time.pending(), [], "no timer left behind");
});

Deno.test("runOnce() during a round joins it instead of starting another", async () => {
  const { net, prober } = setup();
  const first = prober.runOnce();
  const second = prober.runOnce();
  assert.equal(first, second);
  assert.equal(net.calls.length, 1);
  net.calls[0].answer(200);
  assert.equal((await first)[0].result, "up");
  prober.runOnce();
  assert.equal(net.calls.length, 2, "a new round once the previous one ended");
  await prober.stop();
});

Deno.test("stop() cancels the next tick and the deadline timers", async () => {
  const { time, net, outcomes, prober } = setup();
  prober.start();
  assert.deepEqual(time.pending(), [300, 1_000]);
  await prober.stop();
  assert.deepEqual(time.pending(), []);
  assert.deepEqual(outcomes.map((o) => o.result), ["aborted"]);
  await time.advance(5_000);
  assert.equal(net.calls.length, 1);
});

Deno.test("start() after stop() resumes; start() twice does not double the schedule", async () => {
  const { time, net, prober } = setup();
  prober.start();
  prober.start();
  await prober.stop();
  prober.start();
  assert.equal(net.calls.length, 2);
  net.calls[1].answer(200);
  await time.advance(1_000);
  assert.equal(net.calls.length, 3);
  await prober.stop();
});

Deno.test("after a clock jump the schedule drops missed ticks and keeps its phase", async () => {
  const { time, net, prober } = setup();
  prober.start();
  net.calls[0].answer(200);
  await time.advance(1);
  time.jump(3_499); // the event loop was blocked through the ticks due at +1000, +2000, +3000
  await time.advance(0); // the overdue tick fires once, late, at +3500
  assert.equal(net.calls.length, 2);
  assert.deepEqual(time.pending(), [300, 500], "next tick back on the 1000 ms grid, at +4000");
  await prober.stop();
});

Deno.test("targets() is read each round, so reloads take effect", async () => {
  const { net, targets, prober } = setup();
  const first = prober.runOnce();
  net.calls[0].answer(200);
  await first;
  targets.push(target("b"));
  const round = prober.runOnce();
  assert.deepEqual(net.calls.slice(1).map((c) => c.url), ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b"]);
  net.calls[1].answer(200);
  net.calls[2].answer(503);
  assert.deepEqual((await round).map((o) => o.result), ["up", "down"]);
});

Deno.test("a probe that cannot be built is an error, reported and not held against the instance", async () => {
  const broken: ProbeTarget = {
    ...target("broken"),
    request: () => {
      throw new Error("adapter has no probe");
    },
  };
  const { errors, prober } = setup({ targets: () => [broken] });
  const [outcome] = await prober.runOnce();
  assert.equal(outcome.result, "error");
  assert.match(outcome.detail, /adapter has no probe/);
  assert.equal(broken.state.healthy, true);
  assert.equal(errors.length, 1);
});

Deno.test("targets() or onChange throwing is reported to onError and never rejects runOnce()", async () => {
  const a = setup({
    targets: () => {
      throw new Error("registry gone");
    },
  });
  assert.deepEqual(await a.prober.runOnce(), []);
  assert.match(String(a.errors[0]), /registry gone/);

  const noisy: ProbeTarget = {
    ...target("noisy"),
    state: createHealthState({
      healthyThreshold: 1,
      unhealthyThreshold: 1,
      passiveFailures: 1,
      onChange: () => {
        throw new Error("logger down");
      },
    }),
  };
  const b = setup({ targets: () => [noisy] });
  const round = b.prober.runOnce();
  b.net.calls[0].answer(500);
  assert.equal((await round)[0].result, "down");
  assert.equal(noisy.state.healthy, false);
  assert.match(String(b.errors[0]), /logger down/);
});

Deno.test("createProber() rejects bad options with std-style messages", () => {
  const base: ProberOptions = {
    fetch: manualFetch().fetch,
    clock: () => 0,
    intervalMs: 1_000,
    timeoutMs: 100,
    targets: () => [],
  };
  assert.throws(
    () => createProber({ ...base, intervalMs: 0 }),
    new RangeError('Cannot create prober: "intervalMs" must be a finite number > 0, received 0'),
  );
  assert.throws(
    () => createProber({ ...base, timeoutMs: Infinity }),
    new RangeError('Cannot create prober: "timeoutMs" must be a finite number > 0, received Infinity'),
  );
  assert.throws(
    () => createProber({ ...base, fetch: undefined as unknown as typeof fetch }),
    new TypeError('Cannot create prober: "fetch" must be a function, received undefined'),
  );
  assert.throws(() => createProber({ ...base, schedule: 5 as unknown as Schedule }), TypeError);
});
