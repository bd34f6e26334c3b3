import assert from "node:assert/strict";
import type { AliasConfig } from "../config/types.ts";
import { buildCatalogue, globMatch, resolveModel } from "./catalogue.ts";
import type { ModelPool } from "./runtime_types.ts";

const pool = (name: string) =>
  ({ name, upstreams: [], strategy: { pick: () => undefined } }) as unknown as ModelPool;
const alias = (name: string, model: string): AliasConfig => ({
  name,
  model,
  hidden: false,
  pattern: name.includes("*"),
});

Deno.test("resolveModel() finds models and exact aliases by one lookup; unknown names are undefined", () => {
  const a = pool("qwen3-8b");
  const cat = buildCatalogue(new Map([["qwen3-8b", a]]), [alias("gpt-4o-mini", "qwen3-8b")], []);
  assert.equal(resolveModel(cat, "qwen3-8b")?.pool, a);
  assert.equal(resolveModel(cat, "gpt-4o-mini"), resolveModel(cat, "qwen3-8b"), "one route object per model");
  assert.equal(resolveModel(cat, "gpt-4o"), undefined);
  assert.equal(cat.patterns.length, 0);
});

Deno.test("resolveModel() tries patterns in the resolved order (most specific first) after exact names", () => {
  const big = pool("qwen3-32b");
  const small = pool("qwen3-8b");
  // The config resolves patterns most specific first; buildCatalogue keeps that order.
  const cat = buildCatalogue(new Map([["qwen3-32b", big], ["qwen3-8b", small]]), [
    alias("claude-haiku", "qwen3-8b"),
    alias("claude-haiku-*", "qwen3-8b"),
    alias("claude-*", "qwen3-32b"),
  ], []);
  assert.equal(resolveModel(cat, "claude-haiku-4-5")?.pool, small);
  assert.equal(resolveModel(cat, "claude-sonnet-4-5")?.pool, big);
  assert.equal(resolveModel(cat, "claude-haiku")?.pool, small);
  assert.equal(resolveModel(cat, "qwen3-8b")?.pool, small, "a model name wins over a matching pattern");
  assert.equal(resolveModel(cat, "gpt-4o"), undefined);
});

Deno.test("buildCatalogue() leaves out aliases and chain entries naming models this service lacks", () => {
  const a = pool("a");
  const cat = buildCatalogue(new Map([["a", a]]), [alias("x", "elsewhere"), alias("y*", "elsewhere")], [
    { model: "a", then: ["elsewhere", "a"] },
  ]);
  assert.equal(resolveModel(cat, "x"), undefined);
  assert.equal(resolveModel(cat, "yes"), undefined);
  assert.deepEqual(resolveModel(cat, "a")?.fallbacks, [], "unknown and self entries dropped");
});

Deno.test("buildCatalogue() resolves chain keys and entries through exact aliases, without duplicates", () => {
  const [a, b, c] = [pool("a"), pool("b"), pool("c")];
  const cat = buildCatalogue(new Map([["a", a], ["b", b], ["c", c]]), [
    alias("big", "a"),
    alias("small", "c"),
  ], [
    { model: "big", then: ["b", "small", "c"] },
  ]);
  assert.deepEqual(resolveModel(cat, "a")?.fallbacks, [b, c]);
  assert.deepEqual(resolveModel(cat, "big")?.fallbacks, [b, c]);
  assert.deepEqual(resolveModel(cat, "b")?.fallbacks, []);
});

Deno.test("globMatch() is a star-only glob: prefix, suffix, ordered middles, anything for a lone star", () => {
  const m = (p: string, s: string) => globMatch(p.split("*"), s);
  assert(m("*", ""));
  assert(m("a*", "a") && m("a*", "abc") && !m("a*", "ba"));
  assert(m("*c", "abc") && !m("*c", "cb"));
  assert(m("a*b*c", "aXbYc") && m("a*b*c", "abc") && !m("a*b*c", "acb"));
  assert(!m("ab*ba", "aba"), "prefix and suffix may not overlap");
  assert(m("qwen3:*", "qwen3:8b") && m("*/*", "Qwen/Qwen3-8B"));
  assert(!m("exact", "exactly") && m("exact", "exact"));
});

Deno.test("globMatch() stays linear on a long hostile name", () => {
  const name = "a".repeat(200_000);
  const t0 = performance.now();
  assert(!globMatch("*a*a*a*a*b".split("*"), name));
  assert(performance.now() - t0 < 500);
});
