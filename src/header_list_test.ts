import assert from "node:assert/strict";
import { HeaderList } from "./header_list.ts";

Deno.test("HeaderList keeps order, lower-cases names, and set/delete replace every field of a name", () => {
  const h = HeaderList.from({ "Content-Type": "application/json", "X-A": "1" });
  h.append("x-a", "2");
  assert.deepEqual(h.entries, [["content-type", "application/json"], ["x-a", "1"], ["x-a", "2"]]);
  assert.equal(h.get("X-A"), "1");
  h.set("X-A", "3");
  assert.deepEqual(h.entries, [["content-type", "application/json"], ["x-a", "3"]]);
  h.delete("content-type");
  assert.equal(h.has("content-type"), false);
  const copy = h.clone();
  copy.set("x-b", "4");
  assert.equal(h.has("x-b"), false, "a clone shares no field");
});

Deno.test("HeaderList.toInit() is a record when names are unique, else the pairs (repeats survive)", () => {
  const unique = new HeaderList([["a", "1"], ["b", "2"]]);
  assert.deepEqual(unique.toInit(), { a: "1", b: "2" });
  const repeated = new HeaderList([["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
  assert.deepEqual(new Headers(repeated.toInit()).getSetCookie(), ["a=1", "b=2"]);
  assert.equal(new Response(null, { headers: unique.toInit() }).headers.get("b"), "2");
});
