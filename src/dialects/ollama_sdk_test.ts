/**
 * The real `ollama` npm client reads what the Ollama dialect writes: a loopback server answers as
 * the gateway will (client request → parseRequest → an OpenAI fixture → toResponse or the NDJSON
 * translator, delivered in 7-byte pieces), and `ollama.chat`, `generate`, `embed`, `list` and
 * `ps` must get their answers.
 */
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { answerAs, lastSaid, loopback, SCENARIOS, TEST_ENV } from "./_testing.ts";
import {
  ollamaChatDialect,
  ollamaEmbedDialect,
  ollamaGenerateDialect,
  ollamaPs,
  ollamaTags,
} from "./ollama.ts";
import type { Dialect } from "./types.ts";
import type { OllamaCtx } from "./ollama_request.ts";

const ROUTES: Record<string, Dialect<OllamaCtx>> = {
  "/api/chat": ollamaChatDialect,
  "/api/generate": ollamaGenerateDialect,
  "/api/embed": ollamaEmbedDialect,
};
const MODELS = [{ name: "qwen3:8b", family: "qwen3", contextLength: 32768 }, { name: "all-minilm" }];

function serve() {
  return loopback((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/api/tags") return Response.json(ollamaTags(MODELS, TEST_ENV.clock()));
    if (path === "/api/ps") return Response.json(ollamaPs(MODELS.slice(0, 1), TEST_ENV.clock() + 300_000));
    const json = path === "/api/embed" ? "openai/embeddings.json" : undefined;
    return answerAs(ROUTES[path], req, (body) => lastSaid(body, SCENARIOS), json);
  });
}

Deno.test("ollama client chat(): a whole answer and a stream of text", async () => {
  const s = serve();
  try {
    const client = new Ollama({ host: s.url });
    const whole = await client.chat({ model: "qwen3:8b", messages: [{ role: "user", content: "text" }] });
    assert.equal(whole.message.content, "Hello 世界 🎉");
    assert.equal(whole.eval_count, 6);
    let text = "";
    let last;
    for await (
      const part of await client.chat({
        model: "qwen3:8b",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      })
    ) {
      text += part.message.content;
      last = part;
    }
    assert.equal(text, "Hello 世界 🎉");
    assert.equal(last?.done, true);
    assert.equal(last?.done_reason, "stop");
    assert.equal(last?.prompt_eval_count, 12);
  } finally {
    await s.close();
  }
});

Deno.test("ollama client chat(): streamed tool calls arrive whole, with object arguments", async () => {
  const s = serve();
  try {
    const client = new Ollama({ host: s.url });
    const streamedCalls = async (content: string) => {
      const calls = [];
      const parts = await client.chat({
        model: "qwen3:8b",
        messages: [{ role: "user", content }],
        stream: true,
      });
      for await (const part of parts) calls.push(...(part.message.tool_calls ?? []));
      return calls;
    };
    const calls = await streamedCalls("tools");
    assert.deepEqual(calls.map((c) => [c.function.name, c.function.arguments]), [
      ["get_weather", { city: "Paris" }],
      ["get_time", { tz: "Europe/Paris" }],
    ]);
    assert.deepEqual(
      await streamedCalls("tools_interleaved"),
      calls,
      "parallel calls whose pieces interleave come out the same",
    );
    assert.deepEqual(
      await streamedCalls("tools_same_index"),
      calls,
      "parallel calls a backend numbers all 0 (each with its id) come out the same",
    );
  } finally {
    await s.close();
  }
});

Deno.test("ollama client generate(): streamed and whole; a mid-stream error is thrown", async () => {
  const s = serve();
  try {
    const client = new Ollama({ host: s.url });
    const whole = await client.generate({ model: "qwen3:8b", prompt: "why?", stream: false });
    assert.equal(whole.response, "Hello 世界 🎉");
    let text = "";
    for await (const part of await client.generate({ model: "qwen3:8b", prompt: "why?", stream: true })) {
      text += part.response;
    }
    assert.equal(text, "Hello 世界 🎉");
    await assert.rejects(async () => {
      for await (
        const _ of await client.chat({
          model: "m",
          messages: [{ role: "user", content: "error" }],
          stream: true,
        })
      ) {
        // drain
      }
    }, /broke after its first chunk/);
  } finally {
    await s.close();
  }
});

Deno.test("ollama client embed(), list() and ps() read the gateway's answers; bad input is an Ollama error", async () => {
  const s = serve();
  try {
    const client = new Ollama({ host: s.url });
    const emb = await client.embed({ model: "all-minilm", input: ["a", "b"] });
    assert.deepEqual(emb.embeddings[1], [0.25, -0.5, 0.125]);
    assert.deepEqual((await client.list()).models.map((m) => m.name), ["qwen3:8b", "all-minilm"]);
    const ps = await client.ps();
    assert.equal(ps.models[0].details.family, "qwen3");
    assert.equal(String(ps.models[0].expires_at), "2025-12-06T00:05:00.000Z");
    await assert.rejects(
      client.generate({ model: "m", prompt: "hi", options: { mirostat: 2 } }),
      (err: Error & { status_code?: number }) =>
        err.status_code === 400 && /options\.mirostat is not supported/.test(err.message),
    );
  } finally {
    await s.close();
  }
});
