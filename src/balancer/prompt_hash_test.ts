import assert from "node:assert/strict";
import { checkpointCount, hashPrompt, isCheckpoint } from "./prompt_hash.ts";

Deno.test("hashPrompt(): checkpoints are all of the first 16 blocks, then 8 per doubling", () => {
  const kept = Array.from({ length: 70 }, (_, i) => i + 1).filter(isCheckpoint);
  assert.deepEqual(kept.slice(15), [16, 18, 20, 22, 24, 26, 28, 30, 32, 36, 40, 44, 48, 52, 56, 60, 64]);
  assert.equal(checkpointCount(512), 56);
  const long = hashPrompt({ prompt: "x".repeat(64 * 600) });
  assert.equal(long.length, 56, "stops after maxBlocks");
  assert.ok(long.every((h) => h >= 0 && h < 2 ** 30));
});

Deno.test("hashPrompt(): a shared prefix gives shared leading hashes, a different one does not", () => {
  const sys = { role: "system", content: "S".repeat(640) };
  const a = hashPrompt({ messages: [sys, { role: "user", content: "A".repeat(300) }] });
  const b = hashPrompt({ messages: [sys, { role: "user", content: "B".repeat(300) }] });
  assert.equal(a.length, b.length);
  assert.deepEqual(a.slice(0, 10), b.slice(0, 10)); // 640 chars = 10 blocks of system prompt
  assert.notDeepEqual(a.slice(10), b.slice(10));
  const other = hashPrompt({ messages: [{ role: "system", content: "T".repeat(640) }] });
  assert.notEqual(other[0], a[0]);
});

Deno.test("hashPrompt(): roles and message boundaries count; parts and token prompts are read", () => {
  const text = "w".repeat(200);
  const asUser = hashPrompt({ messages: [{ role: "user", content: text }] });
  const asSystem = hashPrompt({ messages: [{ role: "system", content: text }] });
  assert.notEqual(asUser[0], asSystem[0]);
  const parts = hashPrompt({ messages: [{ role: "user", content: [{ type: "text", text }] }] });
  assert.equal(parts.length, asUser.length);
  assert.equal(hashPrompt({ prompt: ["y".repeat(128), "z"] }).length, 2);
  assert.equal(hashPrompt({ prompt: Array.from({ length: 64 }, (_, i) => i) }).length, 4);
  assert.equal(hashPrompt({ input: "embeddings have no prompt" }).length, 0);
  assert.equal(hashPrompt({ messages: [{ role: "user", content: "short" }] }).length, 0);
});

Deno.test("hashPrompt() validates its options", () => {
  assert.throws(() => hashPrompt({}, { blockSize: 0 }), /"blockSize" must be an integer >= 1, received 0/);
  assert.throws(() => hashPrompt({}, { maxBlocks: 1.5 }), RangeError);
});
