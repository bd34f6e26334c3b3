/**
 * Client dialects on the request path in process, table-driven on manual time: failover before
 * the first byte, a stream that breaks (upstream reset, gateway shutdown cut) ends with the
 * dialect's error event, a malformed answer is a 502 in the dialect's shape — and every counter
 * is back to zero after each row (`runCases` asserts it).
 */

import assert from "node:assert/strict";
import { type Case, runCases, serviceConfig, type Step } from "./_testing.ts";

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${
    JSON.stringify({
      id: "c",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })
  }\n\n`;
const STREAM_START = [
  chunk({ role: "assistant", content: "" }),
  chunk({ content: "Hel" }),
  chunk({ content: "lo" }),
];
const OK: Step = {
  json: {
    id: "c1",
    object: "chat.completion",
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
};

const MESSAGES = { model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] };
const anthropic = { path: "/v1/messages" };

/** The last SSE event of an Anthropic stream, parsed. */
function lastEvent(
  text: string,
): { event: string; data: { type: string; error?: { type: string; message: string } } } {
  const events = text.trim().split("\n\n");
  const [head, data] = events.at(-1)!.split("\n");
  return { event: head.replace("event: ", ""), data: JSON.parse(data.replace("data: ", "")) };
}

/** Checks Anthropic's error shape (a 502 is an `api_error`) and its message. */
const anthropicError = (message: RegExp) => (body: unknown) => {
  const b = body as { type: string; error: { type: string; message: string } };
  assert.equal(b.type, "error");
  assert.equal(b.error.type, "api_error");
  assert.match(b.error.message, message);
};

const CASES: Case[] = [
  {
    name: "an Anthropic request fails over to the next instance before the client sees anything",
    config: serviceConfig(["a", "b"]),
    script: { a: [{ status: 500, json: { error: "boom" } }], b: [OK] },
    request: MESSAGES,
    post: anthropic,
    status: 200,
    answer: (body) =>
      assert.deepEqual((body as { content: unknown }).content, [{ type: "text", text: "hello" }]),
    tried: ["a", "b"],
  },
  {
    name: "an upstream reset mid-stream ends the Anthropic stream with its error event",
    config: serviceConfig(["a"]),
    script: { a: [{ body: [...STREAM_START, "reset"] }] },
    request: { ...MESSAGES, stream: true },
    post: anthropic,
    status: 200,
    headers: { "content-type": "text/event-stream" },
    answer: (text) => {
      assert.match(String(text), /"text":"Hel"/);
      const last = lastEvent(String(text));
      assert.equal(last.event, "error");
      assert.equal(last.data.error?.type, "api_error");
      assert.match(last.data.error!.message, /Upstream stream ended abnormally: .*connection reset/);
    },
    tried: ["a"],
    after: (h) => assert.match(h.logs.at(-1)!, /"dialect":"anthropic".*"error":"upstream_body"/),
  },
  {
    name: "the gateway's shutdown cut ends an Anthropic stream with its error event, no instance blamed",
    config: serviceConfig(["a"]),
    script: { a: [{ body: [...STREAM_START, "hang"] }] },
    request: { ...MESSAGES, stream: true },
    post: anthropic,
    drive: (h) => void h.gateway.cut(),
    status: 200,
    answer: (text) => assert.match(lastEvent(String(text)).data.error!.message, /shutting down/),
    tried: ["a"],
    after: (h) => assert.equal(h.upstream("a").breaker.snapshot().failures, 0),
  },
  {
    name: "an upstream reset mid-stream ends Ollama's NDJSON with an {error} line",
    config: serviceConfig(["a"]),
    script: { a: [{ body: [...STREAM_START, "reset"] }] },
    request: { model: "m", prompt: "hi" },
    post: { path: "/api/generate" },
    status: 200,
    headers: { "content-type": "application/x-ndjson" },
    answer: (text) => {
      const lines = String(text).trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.response ?? "·"), ["Hel", "lo", "·"]);
      assert.match(lines.at(-1).error, /Upstream stream ended abnormally/);
    },
    tried: ["a"],
  },
  {
    name: "an answer the dialect cannot read is a 502 in Anthropic's shape",
    config: serviceConfig(["a"]),
    script: { a: [{ json: { id: "x", choices: "not a list" } }] },
    request: MESSAGES,
    post: anthropic,
    status: 502,
    answer: anthropicError(/unreadable body/),
    tried: ["a"],
  },
  {
    name:
      "an upstream that streams to a request for a whole Anthropic answer: another instance, else 502 in Anthropic's shape",
    config: serviceConfig(["a", "b"]),
    script: { a: [{ body: [...STREAM_START, "data: [DONE]\n\n"] }], b: [{ body: ["data: [DONE]\n\n"] }] },
    request: MESSAGES,
    post: anthropic,
    status: 502,
    answer: anthropicError(/upstream answered text\/event-stream to a request for a whole answer/),
    tried: ["a", "b"],
    after: (h) => assert.equal(h.upstreams.openBodies, 0, "the streams were let go"),
  },
  {
    name:
      "an upstream that answers whole to a request for an Anthropic stream is refused, not relayed as JSON",
    config: serviceConfig(["a"]),
    script: { a: [OK] },
    request: { ...MESSAGES, stream: true },
    post: anthropic,
    status: 502,
    answer: anthropicError(/upstream answered application\/json to a request for a stream/),
    tried: ["a"],
  },
  {
    name:
      "an HTML page (200) from an Ollama backend to a request for an Anthropic stream fails over before any byte, else 502",
    config: serviceConfig(["a", "b"], { adapter: "ollama" }, "chat", { path: "/api/chat" }),
    script: {
      a: [{ headers: { "content-type": "text/html; charset=utf-8" }, body: ["<html>proxy error</html>"] }],
      b: [{ headers: { "content-type": "text/html" }, body: ["<html>maintenance</html>"] }],
    },
    request: { ...MESSAGES, stream: true },
    post: anthropic,
    status: 502,
    answer: anthropicError(/upstream answered text\/html to a request for a stream/),
    tried: ["a", "b"],
    after: (h) => assert.equal(h.upstreams.openBodies, 0, "the pages were let go"),
  },
  {
    name: "a Responses request is answered whole, its usage counted from the upstream's",
    config: serviceConfig(["a"]),
    script: { a: [OK] },
    request: { model: "m", input: "hi" },
    post: { path: "/v1/responses" },
    status: 200,
    answer: (body) =>
      assert.equal(
        (body as { output: { content: { text: string }[] }[] }).output[0].content[0].text,
        "hello",
      ),
    tried: ["a"],
    after: (h) =>
      assert.match(
        h.logs.at(-1)!,
        /"route":"\/v1\/responses".*"dialect":"responses".*"tokensIn":3,"tokensOut":1/,
      ),
  },
];

runCases("dialects in process", CASES);
