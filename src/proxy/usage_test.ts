import assert from "node:assert/strict";
import { usageFromTail } from "./usage.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("usageFromTail() reads the last usage of an SSE stream split across the final chunks", () => {
  const u = usageFromTail([
    enc('data: {"choices":[],"usage":{"prompt_tokens":12,"compl'),
    enc('etion_tokens":34}}\n\ndata: [DONE]\n\n'),
  ]);
  assert.deepEqual(u, { tokensIn: 12, tokensOut: 34 });
});

Deno.test("usageFromTail() reports embeddings usage (no completion tokens) and nothing when absent", () => {
  assert.deepEqual(usageFromTail([enc('{"usage":{"prompt_tokens":3,"total_tokens":3}}')]), {
    tokensIn: 3,
    tokensOut: undefined,
  });
  assert.deepEqual(usageFromTail([enc("AUDIO")]), {});
  assert.deepEqual(usageFromTail([]), {});
});
