import assert from "node:assert/strict";
import { FirstByteTimes, InstanceProgress } from "../health/outlier.ts";
import { WaitCount, type Waiter, WaitingList } from "./waiting.ts";
import { Link } from "../linked_list.ts";

class Node implements Waiter {
  readonly waitLink: Link<Waiter> = new Link(this);
  told: string[] = [];
  constructor(readonly startedAt: number) {}
  ejected(reason: string): void {
    this.told.push(reason);
  }
}

function setup() {
  const count = new WaitCount();
  const events: string[] = [];
  count.onBusy = () => events.push("busy");
  count.onIdle = () => events.push("idle");
  const times = new FirstByteTimes();
  const a = new WaitingList(count, times, new InstanceProgress());
  const b = new WaitingList(count, times, new InstanceProgress());
  return { count, events, times, a, b };
}

Deno.test("WaitingList: oldest first, O(1) removal anywhere, each node released once", () => {
  const { count, events, a } = setup();
  const [n1, n2, n3] = [new Node(1), new Node(2), new Node(3)];
  for (const n of [n1, n2, n3]) a.add(n);
  a.add(n2); // already in: nothing changes
  assert.equal(a.size, 3);
  assert.equal(a.oldestStart, 1);
  a.remove(n2);
  a.remove(n2);
  assert.equal(a.size, 2);
  a.remove(n1);
  assert.equal(a.oldestStart, 3);
  a.remove(n3);
  assert.equal(a.oldestStart, undefined);
  assert.equal(count.waiting, 0);
  assert.deepEqual(events, ["busy", "idle"], "told once on the way up and once on the way down");
  assert.ok([n1, n2, n3].every((n) => n.waitLink.list === undefined && !n.waitLink.prev && !n.waitLink.next));
});

Deno.test("WaitingList: the count spans every instance; removal from another list is a no-op", () => {
  const { count, events, a, b } = setup();
  const [n1, n2] = [new Node(1), new Node(2)];
  a.add(n1);
  b.add(n2);
  b.remove(n1);
  assert.equal(count.waiting, 2);
  a.remove(n1);
  assert.deepEqual(events, ["busy"]);
  b.remove(n2);
  assert.deepEqual(events, ["busy", "idle"]);
});

Deno.test("WaitingList.served(): leaves the list, marks progress, records a success's first-byte time", () => {
  const { a, times } = setup();
  const [n1, n2] = [new Node(100), new Node(50)];
  a.add(n1);
  a.add(n2);
  a.served(n1, 400, 300);
  a.served(n2, 420, undefined); // an error answer: progress, but no sample
  assert.equal(a.size, 0);
  assert.equal(a.progress.lastFirstByteAt, 420);
  assert.equal(a.progress.lastServedStart, 100, "the latest-begun served attempt");
  assert.equal(times.size, 1);
});

Deno.test("WaitingList.ejectAll(): every waiting node leaves first, then is told once", () => {
  const { count, a } = setup();
  const nodes = [new Node(1), new Node(2), new Node(3)];
  const seen: number[] = [];
  for (const n of nodes) {
    n.ejected = (reason) => {
      assert.equal(n.waitLink.list, undefined, "out of the list before it is told");
      seen.push(a.size);
      n.told.push(reason);
      a.remove(n); // its own settle path runs later; harmless
    };
    a.add(n);
  }
  assert.equal(a.ejectAll("probe failed"), 3);
  assert.deepEqual(seen, [2, 1, 0]);
  assert.ok(nodes.every((n) => n.told.length === 1 && n.told[0] === "probe failed"));
  assert.equal(count.waiting, 0);
  assert.equal(a.ejectAll("again"), 0);
});
