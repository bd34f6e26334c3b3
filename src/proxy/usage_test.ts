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

Deno.test("usageFromTail() reads Anthropic's and Responses' input_tokens/output_tokens", () => {
  const anthropic = usageFromTail([
    enc(
      'event: message_delta\ndata: {"type":"message_delta","usage":{"input_tokens":12,"output_tokens":6}}\n\n',
    ),
    enc('event: message_stop\ndata: {"type":"message_stop"}\n\n'),
  ]);
  assert.deepEqual(anthropic, { tokensIn: 12, tokensOut: 6 });
  const responses = usageFromTail([enc(
    '{"usage":{"input_tokens":3,"input_tokens_details":{"cached_tokens":1},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":2},"total_tokens":8}}',
  )]);
  assert.deepEqual(responses, { tokensIn: 3, tokensOut: 5 });
});
