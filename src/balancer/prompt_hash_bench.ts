/**
 * What prefix affinity costs per request: hashing the prompt, and a `prefix-affinity` pick with
 * the hashes (lookups in each member's cache, then remembering the chain). Prompts of a 2 KiB
 * system prompt plus 1–16 turns, as a multi-turn chat sends them.
 *
 * Run: `deno bench -A src/balancer/prompt_hash_bench.ts`
 */

import type { Endpoint } from "../types.ts";
import { endpoints, testOptions } from "./_testing.ts";
import { prefixAffinity } from "./prefix_affinity.ts";
import { hashPrompt } from "./prompt_hash.ts";

const SYSTEM = { role: "system", content: "You are a helpful assistant for the ACME help desk. ".repeat(40) };
function chat(turns: number) {
  const messages: { role: string; content: string }[] = [SYSTEM];
  for (let i = 0; i < turns; i++) {
    messages.push({
      role: i % 2 ? "assistant" : "user",
      content: `Turn ${i}: ${"lorem ipsum dolor ".repeat(25)}`,
    });
  }
  return { model: "m", messages };
}

for (const turns of [1, 4, 16, 64]) {
  const body = chat(turns);
  const chars = body.messages.reduce((n, m) => n + m.content.length, 0);
  Deno.bench({
    name: `hashPrompt ${turns} turns (${chars} chars)`,
    group: "hash",
    fn: () => void hashPrompt(body),
  });
}

for (const n of [2, 16]) {
  const members: Endpoint[] = endpoints(Array.from({ length: n }, () => 1));
  const strategy = prefixAffinity(members, testOptions());
  const prompts = Array.from(
    { length: 256 },
    (_, c) =>
      hashPrompt({ messages: [SYSTEM, { role: "user", content: `conversation ${c} ${"x".repeat(600)}` }] }),
  );
  for (const p of prompts) strategy.pick({ promptHashes: p });
  let i = 0;
  Deno.bench({
    name: `prefix-affinity pick × ${n} members`,
    group: "pick",
    fn: () => void strategy.pick({ promptHashes: prompts[i++ & 255] }),
  });
}
