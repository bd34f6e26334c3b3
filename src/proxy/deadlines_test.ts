import assert from "node:assert/strict";
import { DeadlineSweep, type TimerApi, type Watch } from "./deadlines.ts";
import { Link } from "../linked_list.ts";

class TestWatch implements Watch {
  readonly dueLink: Link<Watch> = new Link(this);
  constructor(public due: number, readonly expire: () => void) {}
}

/** Manual timers: `advance(ms)` moves time and runs what fell due, in order. */
function fakeTimers() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const api: TimerApi = {
    now: () => now,
    setTimeout: (fn, ms) => {
      pending.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (id) => pending.delete(id as number),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = [...pending].sort((a, b) => a[1].at - b[1].at)[0];
      if (!next || next[1].at > end) break;
      pending.delete(next[0]);
      now = next[1].at;
      next[1].fn();
    }
    now = end;
  };
  return { api, advance, pending };
}

function watch(sweep: DeadlineSweep, due: number, log: string[], name: string): Watch {
  const w = new TestWatch(due, () => log.push(`${name}@${sweep.now()}`));
  sweep.add(w);
  return w;
}

Deno.test("DeadlineSweep expires each watch once, at its deadline, with one timer for all", () => {
  const t = fakeTimers();
  const sweep = new DeadlineSweep(t.api);
  const log: string[] = [];
  watch(sweep, 300, log, "c");
  watch(sweep, 100, log, "a");
  watch(sweep, 200, log, "b");
  assert.equal(t.pending.size, 1);
  t.advance(1000);
  assert.deepEqual(log, ["a@100", "b@200", "c@300"]);
  assert.equal(sweep.size, 0);
  assert.equal(t.pending.size, 0, "no timer is left once nothing is watched");
});

Deno.test("DeadlineSweep: one request after another arms no new timer; stop() clears it", () => {
  const t = fakeTimers();
  let sets = 0;
  const counting = {
    ...t.api,
    setTimeout: (fn: () => void, ms: number) => (sets++, t.api.setTimeout(fn, ms)),
  };
  const sweep = new DeadlineSweep(counting);
  for (let i = 0; i < 100; i++) {
    // Header deadline 35 s, then the idle one 30 s from "now" (a little earlier), then done.
    const w = new TestWatch(sweep.now() + 35_000, () => assert.fail("nothing expires"));
    sweep.add(w);
    w.due = sweep.now() + 30_000;
    sweep.moved(w);
    t.advance(5);
    sweep.delete(w);
  }
  assert.ok(sets <= 2, `${sets} timers armed for 100 requests`);
  assert.equal(t.pending.size, 1, "the last timer stays armed (it would fire once, find nothing and stop)");
  sweep.stop();
  assert.equal(t.pending.size, 0);
});

Deno.test("DeadlineSweep: a watch expires at most 1/16 of its timeout late", () => {
  const t = fakeTimers();
  const sweep = new DeadlineSweep(t.api);
  const log: string[] = [];
  watch(sweep, 1000, log, "first");
  const w = watch(sweep, Infinity, log, "close");
  w.due = 960; // earlier than the armed timer by less than 960/16 = 60 ms: no re-arm
  sweep.moved(w);
  const far = watch(sweep, Infinity, log, "far");
  far.due = 800; // 200 ms earlier: re-armed
  sweep.moved(far);
  t.advance(2000);
  assert.deepEqual(log, ["far@800", "close@960", "first@1000"]);
});

Deno.test("DeadlineSweep: a deadline moved later waits, moved earlier re-arms, a deleted watch never fires", () => {
  const t = fakeTimers();
  const sweep = new DeadlineSweep(t.api);
  const log: string[] = [];
  const idle = watch(sweep, 100, log, "idle");
  const gone = watch(sweep, 150, log, "gone");
  t.advance(90);
  idle.due = 190; // a chunk arrived: later, no call needed
  t.advance(20);
  assert.deepEqual(log, []);
  sweep.delete(gone);
  const late = watch(sweep, Infinity, log, "late");
  late.due = 120; // earlier than anything armed
  sweep.moved(late);
  t.advance(100);
  assert.deepEqual(log, ["late@120", "idle@190"]);
  assert.equal(t.pending.size, 0);
});

Deno.test("DeadlineSweep holds no timer for watches without a deadline, and works on real time", async () => {
  const t = fakeTimers();
  const sweep = new DeadlineSweep(t.api);
  watch(sweep, Infinity, [], "never");
  assert.equal(t.pending.size, 0);

  const real = new DeadlineSweep();
  const fired = Promise.withResolvers<number>();
  const start = real.now();
  real.add(new TestWatch(start + 20, () => fired.resolve(real.now() - start)));
  // The sweep's timer is unref'd (in the gateway, the server keeps the process alive).
  const keepAlive = setTimeout(() => {}, 5000);
  assert.ok((await fired.promise) >= 20);
  clearTimeout(keepAlive);
});
