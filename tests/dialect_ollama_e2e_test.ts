/**
 * The `ollama` npm client through a real gateway, over real sockets, against two backends of
 * different dialects (vLLM's OpenAI API, Ollama's native chat): `chat`, `generate` and `embed`,
 * whole and streamed (NDJSON, line by line), tool calls, and the gateway's `list`, `ps` and
 * `version`.
 */

import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { accessLines, BACKENDS, withDialectGateway } from "./fakes/dialect_gateway.ts";
import { eventually } from "./fakes/gateway.ts";
import { OLLAMA_API_VERSION } from "../src/http/dialect_routes.ts";
import { vectorOf } from "./fakes/dialects/mod.ts";

const TEXT = "Hello from the fake";
const WEATHER = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

for (const { model, backend } of BACKENDS) {
  Deno.test(`ollama chat() and generate() through the gateway to ${backend}`, async () => {
    await withDialectGateway(async ({ gw, fakeOf }) => {
      const ollama = new Ollama({ host: gw.url });
      const chat = await ollama.chat({ model, messages: [{ role: "user", content: "hi" }] });
      assert.equal(chat.message.content, TEXT);
      assert.equal(chat.model, model);
      assert.equal(chat.done, true);
      assert.equal(chat.eval_count, 4);
      const gen = await ollama.generate({ model, prompt: "hi", system: "Be brief." });
      assert.equal(gen.response, TEXT);
      assert.equal(gen.done_reason, "stop");
      assert.equal(
        fakeOf(model).requests.at(-1)!.json!.model,
        backend === "vllm" ? "Qwen/Qwen3-8B" : "qwen3:0.6b",
      );
      assert.deepEqual(accessLines(gw).map((l) => [l.route, l.dialect]), [["/api/chat", "ollama"], [
        "/api/generate",
        "ollama",
      ]]);
    });
  });

  Deno.test(`ollama chat() and generate() stream line by line from ${backend}`, async () => {
    await withDialectGateway(async ({ gw, fakeOf }) => {
      const ollama = new Ollama({ host: gw.url });
      const fake = fakeOf(model);
      for (const run of ["chat", "generate"] as const) {
        // The client stops at `done`; the upstream may still be sending its `[DONE]`.
        await eventually(() => fake.openStreams === 0, "the previous upstream stream closed");
        const release = fake.hold();
        let openAtFirst = -1;
        let text = "";
        let last: { done: boolean; eval_count?: number } | undefined;
        const parts = run === "chat"
          ? await ollama.chat({ model, messages: [{ role: "user", content: "hi" }], stream: true })
          : await ollama.generate({ model, prompt: "hi", stream: true });
        for await (const part of parts) {
          const piece = "message" in part ? part.message.content : part.response;
          if (piece !== "" && openAtFirst < 0) {
            openAtFirst = fake.openStreams;
            release();
          }
          text += piece;
          last = part;
        }
        release();
        assert.equal(openAtFirst, 1, `${run}: lines reached the client while the upstream still streamed`);
        assert.equal(text, TEXT);
        assert.equal(last?.done, true);
        assert.equal(last?.eval_count, 4);
      }
    });
  });

  Deno.test(`ollama chat() gets a tool call from ${backend}`, async () => {
    await withDialectGateway(async ({ gw }) => {
      const ollama = new Ollama({ host: gw.url });
      const res = await ollama.chat({
        model,
        messages: [{ role: "user", content: "Weather?" }],
        tools: [WEATHER],
      });
      assert.deepEqual(res.message.tool_calls?.map((c) => [c.function.name, c.function.arguments]), [
        ["get_weather", { city: "Paris" }],
      ]);
    });
  });

  Deno.test(`ollama embed() through the gateway to ${backend}`, async () => {
    await withDialectGateway(async ({ gw }) => {
      const ollama = new Ollama({ host: gw.url });
      const embedModel = backend === "vllm" ? "embed-vllm" : "embed-ollama";
      const res = await ollama.embed({ model: embedModel, input: ["a", "b"] });
      assert.deepEqual(res.embeddings, [vectorOf(0), vectorOf(1)]);
      assert.equal(res.model, embedModel);
      assert.equal(accessLines(gw).at(-1)!.service, "embedding");
    });
  });
}

Deno.test("ollama list(), ps() and version() answer from the gateway's catalogue", async () => {
  await withDialectGateway(async ({ gw }) => {
    const ollama = new Ollama({ host: gw.url });
    const names = (await ollama.list()).models.map((m) => m.name);
    assert.deepEqual(names, [
      "embed-ollama",
      "embed-vllm",
      "gpt-4o-mini",
      "qwen3-broken",
      "qwen3-missing",
      "qwen3-native",
      "qwen3-ollama",
      "qwen3-ollama-native",
      "qwen3-vllm",
    ]);
    gw.gateway.runtime().upstreams.find((u) => u.model === "qwen3-broken")!.health.eject("test");
    const live = (await ollama.ps()).models.map((m) => m.name);
    assert(!live.includes("qwen3-broken") && live.includes("qwen3-vllm"), "ps lists what can answer now");
    assert.equal((await ollama.version()).version, OLLAMA_API_VERSION);
  });
});
