import assert from "node:assert/strict";
import { AdmissionQueue, type Offer, QueueBudget, type Queued } from "./admission_queue.ts";
import { Link } from "../linked_list.ts";

/** A waiter that takes a slot while `slots.n > 0`, else reports `full` (or `gone` when told). */
class TestWaiter implements Queued {
  readonly queueLink: Link<Queued> = new Link(this);
  constructor(
    readonly name: string,
    readonly priority: number,
    readonly slots: { n: number },
    readonly log: string[],
    readonly gone: boolean,
  ) {}
  offer(): Offer {
    if (this.gone) return (this.log.push(`${this.name}:gone`), "gone");
    if (this.slots.n === 0) return "full";
    this.slots.n--;
    this.log.push(this.name);
    return "taken";
  }
}

function waiter(name: string, priority: number, slots: { n: number }, log: string[], gone = false): Queued {
  return new TestWaiter(name, priority, slots, log, gone);
}

Deno.test("AdmissionQueue: priority first, FIFO within, a retry at the front of its level", () => {
  const slots = { n: 0 };
  const log: string[] = [];
  const q = new AdmissionQueue(new QueueBudget(10), 10);
  for (const [name, p] of [["a", 1], ["b", 3], ["c", 1], ["d", 3]] as const) {
    q.add(waiter(name, p, slots, log));
  }
  q.add(waiter("retry", 1, slots, log), true);
  slots.n = 5;
  q.drain();
  assert.deepEqual(log, ["b", "d", "retry", "a", "c"]);
  assert.equal(q.size, 0);
});

Deno.test("AdmissionQueue: drain stops at the first waiter that finds everything full, keeping it first", () => {
  const slots = { n: 1 };
  const log: string[] = [];
  const q = new AdmissionQueue(new QueueBudget(10), 2);
  const [a, b] = [waiter("a", 0, slots, log), waiter("b", 0, slots, log)];
  q.add(a);
  q.add(b);
  q.drain();
  assert.deepEqual(log, ["a"]);
  assert.equal(q.head(), b);
  slots.n = 1;
  q.drain();
  assert.deepEqual(log, ["a", "b"]);
});

Deno.test("AdmissionQueue: a waiter nothing can serve leaves without stopping the drain", () => {
  const slots = { n: 1 };
  const log: string[] = [];
  const q = new AdmissionQueue(new QueueBudget(10), 1);
  q.add(waiter("x", 0, slots, log, true));
  q.add(waiter("y", 0, slots, log));
  q.drain();
  assert.deepEqual(log, ["x:gone", "y"]);
});

Deno.test("AdmissionQueue: remove unlinks from anywhere in O(1); the service budget bounds every pool", () => {
  const slots = { n: 0 };
  const log: string[] = [];
  const budget = new QueueBudget(3);
  const q1 = new AdmissionQueue(budget, 4);
  const q2 = new AdmissionQueue(budget, 4);
  const ws = ["a", "b", "c"].map((n) => waiter(n, 2, slots, log));
  assert.ok(q1.add(ws[0]) && q1.add(ws[1]) && q2.add(ws[2]));
  assert.equal(q2.add(waiter("d", 0, slots, log)), false, "the service's budget is used up");
  assert.ok(q1.remove(ws[0]) && !q1.remove(ws[0]));
  assert.equal(budget.depth, 2);
  assert.equal(q1.head(), ws[1]);
  assert.ok(q1.remove(ws[1]));
  assert.equal(q1.head(), undefined);
  assert.equal(q1.size, 0);
  assert.throws(() => new QueueBudget(-1), /"maxSize" must be an integer >= 0/);
  assert.throws(() => new AdmissionQueue(budget, 0), /"levels" must be an integer in 1..64/);
});

Deno.test("AdmissionQueue: a waiter that finds everything full stays queued even past a budget a reload lowered", () => {
  const slots = { n: 0 };
  const log: string[] = [];
  const budget = new QueueBudget(10);
  const q = new AdmissionQueue(budget, 2);
  const [a, b, c] = [waiter("a", 0, slots, log), waiter("b", 0, slots, log), waiter("c", 0, slots, log)];
  for (const w of [a, b, c]) q.add(w);
  budget.maxSize = 0; // the queue was turned off (or made smaller) by a reload
  q.drain();
  assert.equal(q.size, 3, "nobody dropped: each is still in a queue, to be served or time out");
  assert.equal(q.head(), a, "and keeps its place");
  assert.equal(budget.depth, 3);
  assert.equal(q.add(waiter("late", 0, slots, log)), false, "a newcomer finds the queue full");
  slots.n = 3;
  q.drain();
  assert.deepEqual(log, ["a", "b", "c"]);
  assert.equal(budget.depth, 0);
});
