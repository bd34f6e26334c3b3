import assert from "node:assert/strict";
import { createFallbackCache } from "./fallback_cache.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const value = { status: 200, contentType: "application/json", body: enc("{}") };

Deno.test("createFallbackCache() evicts the least recently stored entry beyond cache-size", () => {
  const cache = createFallbackCache(2, 1000, () => 0);
  const [a, b, c] = ["a", "b", "c"].map((s) => cache.key("m", enc(s)));
  cache.set(a, value);
  cache.set(b, value);
  cache.set(c, value);
  assert.equal(cache.size, 2);
  assert.equal(cache.get(a), undefined);
  assert.ok(cache.get(b) && cache.get(c));
});

Deno.test("createFallbackCache() keys by model and exact bytes, and expires after cache-ttl", () => {
  let now = 0;
  const cache = createFallbackCache(10, 500, () => now);
  assert.notEqual(cache.key("m1", enc("x")), cache.key("m2", enc("x")));
  const k = cache.key("m", enc("x"));
  cache.set(k, value);
  now = 500;
  assert.ok(cache.get(k));
  now = 501;
  assert.equal(cache.get(k), undefined);
  assert.throws(() => createFallbackCache(0, 1, () => 0), /"cache-size" must be >= 1, received 0/);
});
