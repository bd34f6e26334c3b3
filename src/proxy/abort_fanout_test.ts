import assert from "node:assert/strict";
import { AbortFanout, type AbortMember } from "./abort_fanout.ts";
import { Link } from "../linked_list.ts";

class Member implements AbortMember {
  readonly abortLink: Link<AbortMember> = new Link(this);
  constructor(readonly log: string[], readonly name: string, readonly onEvent?: () => void) {}
  handleEvent(): void {
    this.log.push(this.name);
    this.onEvent?.();
  }
}

const member = (log: string[], name: string, onEvent?: () => void) => new Member(log, name, onEvent);

Deno.test("AbortFanout tells the members still in it once, in the order they joined", () => {
  const ctrl = new AbortController();
  const log: string[] = [];
  const [a, b, c] = [member(log, "a"), member(log, "b"), member(log, "c")];
  const f = AbortFanout.of(ctrl.signal);
  f.add(a);
  f.add(b);
  f.add(c);
  f.add(b); // already in: no second entry
  f.delete(b);
  f.delete(b); // not in: no-op
  assert.equal(f.size, 2);
  ctrl.abort();
  ctrl.signal.dispatchEvent(new Event("abort")); // the one listener was `once`
  assert.deepEqual(log, ["a", "c"]);
  assert.equal(f.size, 0);
  assert.equal(a.abortLink.list, undefined);
});

Deno.test("AbortFanout.of gives one fanout per signal, and a member leaving while told is harmless", () => {
  const ctrl = new AbortController();
  assert.equal(AbortFanout.of(ctrl.signal), AbortFanout.of(ctrl.signal));
  assert.notEqual(AbortFanout.of(ctrl.signal), AbortFanout.of(new AbortController().signal));
  const log: string[] = [];
  const f = AbortFanout.of(ctrl.signal);
  const b = member(log, "b");
  const a = member(log, "a", () => f.delete(b));
  f.add(a);
  f.add(b);
  ctrl.abort();
  assert.deepEqual(log, ["a", "b"]);
});
