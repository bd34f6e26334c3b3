import assert from "node:assert/strict";
import { Link, LinkedList } from "./linked_list.ts";

class Item {
  readonly link: Link<Item> = new Link(this);
  constructor(readonly name: string) {}
}

function names(list: LinkedList<Item>): string[] {
  const out: string[] = [];
  for (let l = list.head; l !== undefined; l = l.next) out.push(l.owner.name);
  return out;
}

Deno.test("LinkedList: push appends, unshift prepends, remove unlinks from anywhere", () => {
  const list = new LinkedList<Item>();
  const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => new Item(n));
  assert.ok(list.push(a.link));
  assert.ok(list.push(b.link));
  assert.ok(list.unshift(c.link));
  assert.ok(list.push(d.link));
  assert.deepEqual(names(list), ["c", "a", "b", "d"]);
  assert.ok(list.remove(a.link), "from the middle");
  assert.ok(list.remove(c.link), "the head");
  assert.ok(list.remove(d.link), "the tail");
  assert.deepEqual(names(list), ["b"]);
  assert.equal(list.size, 1);
  assert.ok(list.remove(b.link));
  assert.equal(list.head, undefined);
  assert.equal(list.first, undefined);
  assert.equal(list.size, 0);
  assert.ok(list.push(c.link), "an emptied list links again");
  assert.deepEqual(names(list), ["c"]);
});

Deno.test("LinkedList: a link is in one list at a time; leaving twice, or from the wrong list, changes nothing", () => {
  const one = new LinkedList<Item>();
  const two = new LinkedList<Item>();
  const [a, b] = [new Item("a"), new Item("b")];
  one.push(a.link);
  one.push(b.link);
  assert.equal(two.push(a.link), false);
  assert.equal(one.unshift(a.link), false, "already in: not moved");
  assert.equal(two.remove(a.link), false);
  assert.deepEqual(names(one), ["a", "b"]);
  assert.equal(two.size, 0);
  assert.ok(a.link.leave());
  assert.equal(a.link.leave(), false);
  assert.deepEqual([a.link.list, a.link.prev, a.link.next], [undefined, undefined, undefined]);
  assert.deepEqual(names(one), ["b"]);
  assert.equal(one.size, 1);
  assert.ok(two.push(a.link), "free to join another list");
});

Deno.test("LinkedList.shift: the head's member, oldest first, until empty", () => {
  const list = new LinkedList<Item>();
  for (const n of ["a", "b", "c"]) list.push(new Item(n).link);
  const got: string[] = [];
  for (let it = list.shift(); it !== undefined; it = list.shift()) {
    assert.equal(it.link.list, undefined, "out of the list when returned");
    got.push(it.name);
  }
  assert.deepEqual(got, ["a", "b", "c"]);
  assert.equal(list.size, 0);
});

Deno.test("LinkedList: a walk that saves `next` first may remove the link it stands on", () => {
  const list = new LinkedList<Item>();
  const items = ["a", "b", "c", "d", "e"].map((n) => new Item(n));
  for (const it of items) list.push(it.link);
  for (let l = list.head; l !== undefined;) {
    const after = l.next;
    if (l.owner.name !== "c") list.remove(l);
    l = after;
  }
  assert.deepEqual(names(list), ["c"]);
});
