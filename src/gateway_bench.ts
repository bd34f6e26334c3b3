/**
 * The gateway's own cost per request, without sockets: `gateway.fetch` for a chat request (and a
 * 50-chunk stream) against an in-process upstream that answers at once, with the bench's config
 * (every limiter, breaker, failover, metrics, JSON access log). What remains above Deno's own
 * `Request`/`Response` work is the gateway's logic: compare with the "floor" case, which only
 * reads the body and answers through the same fake upstream.
 *
 * The client dialects go through the same gateway and upstream: each group compares Anthropic
 * Messages, OpenAI Responses and Ollama's chat with plain OpenAI chat (the baseline), whole and
 * streamed; a stream's extra cost over the plain one, divided by its 51 chunks, is the
 * translation's cost per chunk. The `catalogue` group checks that aliases, patterns and fallback
 * chains in the config cost a request that uses none of them nothing.
 *
 * Run: `deno bench --allow-all src/gateway_bench.ts`.
 *
 * @module
 */

import { gatewayConfig } from "../tests/bench/gateway_config.ts";
import {
  benchRequest as request,
  CHAT,
  fakeFetch,
  gatewayFor,
  INFO as info,
  UPSTREAMS,
} from "../tests/bench/in_process.ts";

const gateway = gatewayFor(gatewayConfig(8080, UPSTREAMS));
// The same gateway with prefix-affinity on chat: what hashing the prompt adds per request.
const affinity = gatewayFor(
  gatewayConfig(8080, UPSTREAMS).replace("type: least-connections", "type: prefix-affinity"),
);
// The same, with a catalogue the bench's requests never use: exact aliases, patterns, chains.
const catalogued = gatewayFor(
  gatewayConfig(8080, UPSTREAMS).replace(
    "model:\n",
    `model:\n  aliases: { ${
      Array.from({ length: 50 }, (_, i) => `alias-${i}: bench, "pattern-${i}-*": bench`).join(", ")
    } }\n  fallbacks: { bench: [bench-embed] }\n`,
  ),
);
const LONG_CHAT = JSON.stringify({
  model: "bench",
  messages: [
    { role: "system", content: "You are a helpful assistant for the ACME help desk. ".repeat(40) },
    { role: "user", content: "Say hello" },
  ],
  max_tokens: 16,
});
const STREAM = JSON.stringify({ model: "bench", stream: true, messages: [{ role: "user", content: "hi" }] });

Deno.bench(
  "floor: read the body, answer from the fake upstream",
  { group: "chat", baseline: true },
  async () => {
    const req = request(CHAT);
    JSON.parse(new TextDecoder().decode(await req.bytes()));
    const res = await fakeFetch("", { method: "POST", body: new Uint8Array(0) });
    await new Response(await res.bytes(), { headers: [["content-type", "application/json"]] }).bytes();
  },
);

Deno.bench("gateway.fetch chat", { group: "chat" }, async () => {
  const res = await gateway.fetch(request(CHAT), info);
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  await res.bytes();
});

Deno.bench("gateway.fetch stream (51 chunks)", { group: "stream", baseline: true }, async () => {
  const res = await gateway.fetch(request(STREAM), info);
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  await res.bytes();
});

const SAY = [{ role: "user", content: "Say hello" }];
/** Each dialect's request, whole and streamed, as its clients send it. */
const DIALECT_CASES: readonly [string, string, Record<string, unknown>, boolean][] = [
  ["anthropic", "/v1/messages", { model: "bench", max_tokens: 16, messages: SAY }, false],
  ["responses", "/v1/responses", { model: "bench", input: "Say hello", max_output_tokens: 16 }, false],
  ["ollama", "/api/chat", { model: "bench", messages: SAY, stream: false }, false],
  ["anthropic", "/v1/messages", { model: "bench", max_tokens: 16, messages: SAY, stream: true }, true],
  ["responses", "/v1/responses", { model: "bench", input: "Say hello", stream: true }, true],
  ["ollama", "/api/chat", { model: "bench", messages: SAY }, true],
];

for (const [name, path, body, streamed] of DIALECT_CASES) {
  const text = JSON.stringify(body);
  Deno.bench(`gateway.fetch ${name} ${path}${streamed ? " stream (51 chunks)" : ""}`, {
    group: streamed ? "stream" : "chat",
  }, async () => {
    const res = await gateway.fetch(request(text, path), info);
    if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    await res.bytes();
  });
}

Deno.bench("plain chat, no catalogue", { group: "catalogue", baseline: true }, async () => {
  await (await gateway.fetch(request(CHAT), info)).bytes();
});

Deno.bench(
  "plain chat, 50 aliases + 50 patterns + a fallback chain configured",
  { group: "catalogue" },
  async () => {
    await (await catalogued.fetch(request(CHAT), info)).bytes();
  },
);

Deno.bench(
  "gateway.fetch chat, 2.1k-char prompt, least-connections",
  { group: "prompt", baseline: true },
  async () => {
    const res = await gateway.fetch(request(LONG_CHAT), info);
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.bytes();
  },
);

Deno.bench("gateway.fetch chat, 2.1k-char prompt, prefix-affinity", { group: "prompt" }, async () => {
  const res = await affinity.fetch(request(LONG_CHAT), info);
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  await res.bytes();
});
