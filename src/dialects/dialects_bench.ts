/**
 * Per-chunk cost of the dialect stream translators on the hot path: a 1,000-token OpenAI stream
 * (one upstream chunk per token, as vLLM sends them) pushed through each translator, against
 * passing the bytes through and against the least any translation must do (decode, split events,
 * parse and re-serialise each chunk). Divide by 1,000 for the cost per chunk.
 */
import { anthropicDialect } from "./anthropic.ts";
import { ollamaChatDialect } from "./ollama.ts";
import { responsesDialect } from "./responses.ts";
import { createSseTranslator } from "./sse_reader.ts";
import type { Dialect, StreamTranslator } from "./types.ts";

const enc = new TextEncoder();
const env = { clock: () => 1764979200000, randomId: () => "bench" };
const head =
  '{"id":"chatcmpl-b","object":"chat.completion.chunk","created":1764979200,"model":"qwen3-8b","choices":[{"index":0,';
const chunks = [
  enc.encode(`data: ${head}"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n`),
  ...Array.from(
    { length: 1000 },
    (_, i) =>
      enc.encode(
        `data: ${head}"delta":{"content":" tok${i % 10}"},"logprobs":null,"finish_reason":null}]}\n\n`,
      ),
  ),
  enc.encode(`data: ${head}"delta":{},"finish_reason":"stop"}]}\n\n`),
  enc.encode(
    'data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":1000,"total_tokens":1010}}\n\n',
  ),
  enc.encode("data: [DONE]\n\n"),
];

function run(t: StreamTranslator): number {
  let bytes = 0;
  for (const c of chunks) bytes += t.push(c)?.byteLength ?? 0;
  return bytes + (t.end()?.byteLength ?? 0);
}

function ctxOf<C>(d: Dialect<C>, body: unknown): C {
  const p = d.parseRequest(enc.encode(JSON.stringify(body)), env);
  if (!p.ok) throw new Error(p.message);
  return p.ctx;
}

const chat = [{ role: "user", content: "hi" }];
const anthropicCtx = ctxOf(anthropicDialect, { model: "m", max_tokens: 9, messages: chat, stream: true });
const responsesCtx = ctxOf(responsesDialect, { model: "m", input: "hi", stream: true });
const ollamaCtx = ctxOf(ollamaChatDialect, { model: "m", messages: chat });

Deno.bench("pass-through (no translation), 1000 chunks", { group: "stream" }, () => {
  run({ push: (c) => c, end: () => undefined, fail: () => undefined });
});

Deno.bench("SSE parse + re-serialise each chunk (the floor of any translation)", {
  baseline: true,
  group: "stream",
}, () => {
  run(createSseTranslator({
    chunk: (v) => `data: ${JSON.stringify(v)}\n\n`,
    done: () => "data: [DONE]\n\n",
    error: () => "",
    end: () => "",
  }));
});

Deno.bench("anthropic stream translator", { group: "stream" }, () => {
  run(anthropicDialect.streamTransformer(anthropicCtx));
});

Deno.bench("responses stream translator", { group: "stream" }, () => {
  run(responsesDialect.streamTransformer(responsesCtx));
});

Deno.bench("ollama NDJSON stream translator", { group: "stream" }, () => {
  run(ollamaChatDialect.streamTransformer(ollamaCtx));
});
