import assert from "node:assert/strict";
import { LruMap } from "./lru_map.ts";

Deno.test("LruMap orders entries by last set, oldest first", () => {
  const m = new LruMap<number>();
  m.set("a", 1);
  m.set("b", 2);
  m.set("c", 3);
  m.set("a", 4);
  assert.deepEqual([...m.entries()], [["b", 2], ["c", 3], ["a", 4]]);
  assert.deepEqual([m.oldestKey(), m.oldestValue(), m.size], ["b", 2, 3]);
});

Deno.test("LruMap get() does not change the order; delete() unlinks from any position", () => {
  const m = new LruMap<number>();
  for (const [i, k] of ["a", "b", "c", "d"].entries()) m.set(k, i);
  assert.equal(m.get("a"), 0);
  assert.equal(m.delete("c"), true);
  assert.equal(m.delete("c"), false);
  assert.equal(m.delete("a"), true);
  assert.equal(m.delete("d"), true);
  assert.deepEqual([...m.entries()], [["b", 1]]);
  assert.equal(m.delete("b"), true);
  assert.deepEqual([m.oldestKey(), m.size, [...m.entries()]], [undefined, 0, []]);
  m.set("e", 5);
  assert.deepEqual([...m.entries()], [["e", 5]]);
});
