/**
 * A successful answer in a format the adapter's translation does not read (Ollama's `/api/chat`
 * and `/api/embed` behind `adapter: ollama`): an HTML page, NDJSON or SSE to a request for a whole
 * answer, JSON to a request for a stream. Each is a failed attempt before any byte reaches the
 * client — counted against its instance, failed over — and at the end an OpenAI-shaped 502, never
 * the upstream's bytes as a 200. The pass-through `openai` adapter still relays what it gets.
 * Same harness as `dispatch_test.ts`: manual time, scripted upstreams, every counter back to zero.
 */

import assert from "node:assert/strict";
import { type Case, CHAT, type Harness, runCases, serviceConfig, type Step } from "./_testing.ts";

const OLLAMA_CHAT = { adapter: "ollama" };
const NATIVE_CHAT = { path: "/api/chat" };
const STREAM = { ...CHAT, stream: true };
const EMBED = { model: "m", input: "hi" };
const embeddings = { path: "/v1/embeddings" };

const HTML: Step = {
  headers: { "content-type": "text/html; charset=utf-8" },
  body: ["<html>proxy error</html>"],
};
const NDJSON: Step = {
  headers: { "content-type": "application/x-ndjson" },
  body: [
    '{"model":"m","message":{"role":"assistant","content":"hi"},"done":false}\n',
    '{"model":"m","message":{"role":"assistant","content":""},"done":true}\n',
  ],
};
const SSE: Step = {
  headers: { "content-type": "text/event-stream" },
  body: ['data: {"choices":[{"delta":{"content":"hi"}}]}\n\n', "data: [DONE]\n\n"],
};
/** An OpenAI chat completion with a declared length (read whole): what a stream request must not get. */
const OPENAI_JSON: Step = {
  json: {
    id: "x",
    object: "chat.completion",
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "json" }, finish_reason: "stop" }],
  },
};
const OLLAMA_ANSWER: Step = {
  json: { model: "m", message: { role: "assistant", content: "hi" }, done: true },
};
const OLLAMA_EMBED: Step = { json: { model: "m", embeddings: [[0.5, 1]] } };

/** An OpenAI error: the 502 says what the upstream answered instead. */
const badGateway = (message: RegExp) => (body: unknown) => {
  const error = (body as { error: { message: string; type: string } }).error;
  assert.ok(error, `an OpenAI error, not ${JSON.stringify(body)}`);
  assert.equal(error.type, "upstream_error");
  assert.match(error.message, message);
};
const failures = (h: Harness, label: string) => h.upstream(label).breaker.snapshot().failures;
const blamed = (...labels: string[]) => (h: Harness) => {
  for (const l of labels) assert.equal(failures(h, l), 1, `a failure of ${l}`);
  assert.match(h.logs.at(-1)!, /"status":502/);
};

const CASES: Case[] = [
  {
    name: "an HTML page (200) to a whole Ollama chat is a failure of each instance, then a 502, not the page",
    config: serviceConfig(["a", "b"], OLLAMA_CHAT, "chat", NATIVE_CHAT),
    script: { a: [HTML], b: [HTML] },
    status: 502,
    answer: badGateway(/upstream answered text\/html to a request for a whole answer/),
    tried: ["a", "b"],
    after: blamed("a", "b"),
  },
  {
    name: "Ollama NDJSON to a whole Ollama chat fails over to an instance that answers JSON",
    config: serviceConfig(["a", "b"], OLLAMA_CHAT, "chat", NATIVE_CHAT),
    script: { a: [NDJSON], b: [OLLAMA_ANSWER] },
    status: 200,
    answer: (body) => {
      const b = body as { object: string; choices: { message: { content: string } }[] };
      assert.equal(b.object, "chat.completion");
      assert.equal(b.choices[0].message.content, "hi");
    },
    tried: ["a", "b"],
    after: (h) => {
      assert.equal(failures(h, "a"), 1);
      assert.equal(failures(h, "b"), 0);
    },
  },
  {
    name: "SSE to a whole Ollama chat is a 502, not the events",
    config: serviceConfig(["a"], OLLAMA_CHAT, "chat", NATIVE_CHAT),
    script: { a: [SSE] },
    status: 502,
    answer: badGateway(/upstream answered text\/event-stream to a request for a whole answer/),
    tried: ["a"],
    after: blamed("a"),
  },
  {
    name: "JSON with a declared length to an Ollama chat stream is a 502, not the JSON as a 200",
    config: serviceConfig(["a"], OLLAMA_CHAT, "chat", NATIVE_CHAT),
    script: { a: [OPENAI_JSON] },
    request: STREAM,
    status: 502,
    answer: badGateway(/upstream answered application\/json to a request for a stream/),
    tried: ["a"],
    after: blamed("a"),
  },
  {
    name: "JSON without a declared length to an Ollama chat stream fails over to one that streams NDJSON",
    config: serviceConfig(["a", "b"], OLLAMA_CHAT, "chat", NATIVE_CHAT),
    script: {
      a: [{ headers: { "content-type": "application/json" }, body: ['{"model":"m","done":true}'] }],
      b: [NDJSON],
    },
    request: STREAM,
    status: 200,
    headers: { "content-type": "text/event-stream" },
    answer: (body) => {
      assert.match(String(body), /^data: .*"content":"hi"/);
      assert.match(String(body), /data: \[DONE\]\n\n$/);
    },
    tried: ["a", "b"],
    after: (h) => assert.equal(failures(h, "a"), 1),
  },
  {
    name: "an HTML page to an Ollama chat stream is a 502",
    config: serviceConfig(["a"], OLLAMA_CHAT, "chat", NATIVE_CHAT),
    script: { a: [HTML] },
    request: STREAM,
    status: 502,
    answer: badGateway(/upstream answered text\/html to a request for a stream/),
    tried: ["a"],
    after: blamed("a"),
  },
  ...[HTML, SSE, NDJSON].map((step): Case => {
    const type = (step as { headers: Record<string, string> }).headers["content-type"].split(";")[0];
    return {
      name: `${type} to Ollama's /api/embed is a 502, not embeddings a client cannot read`,
      config: serviceConfig(["a"], OLLAMA_CHAT, "embedding"),
      script: { a: [step] },
      request: EMBED,
      post: embeddings,
      status: 502,
      answer: badGateway(
        new RegExp(`upstream answered ${type.replace("/", "\\/")} to a request for a whole`),
      ),
      tried: ["a"],
      after: blamed("a"),
    };
  }),
  {
    name: "Ollama's /api/embed answering JSON is translated to OpenAI's list",
    config: serviceConfig(["a"], OLLAMA_CHAT, "embedding"),
    script: { a: [OLLAMA_EMBED] },
    request: EMBED,
    post: embeddings,
    status: 200,
    answer: (body) => {
      const b = body as { object: string; data: { embedding: number[] }[] };
      assert.equal(b.object, "list");
      assert.deepEqual(b.data[0].embedding, [0.5, 1]);
    },
    tried: ["a"],
  },
  {
    name: "the pass-through openai adapter relays an HTML page (200) as it came, by design",
    config: serviceConfig(["a"]),
    script: { a: [HTML] },
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8" },
    answer: (body) => assert.equal(body, "<html>proxy error</html>"),
    tried: ["a"],
    after: (h) => assert.equal(failures(h, "a"), 0),
  },
];

runCases("unreadable answer", CASES);
