/**
 * The official `openai` SDK through a real gateway, over real sockets, against two backends of
 * different dialects (vLLM's OpenAI chat with SSE, Ollama's native chat with NDJSON):
 * `responses.create`, `responses.stream` with text and with a function call, and the chat
 * completions checks with an aliased model name (the answer and `/v1/models` name the model).
 */

import assert from "node:assert/strict";
import OpenAI from "openai";
import { accessLines, BACKENDS, withDialectGateway } from "./fakes/dialect_gateway.ts";
import { TOOL_ARGUMENTS } from "./fakes/dialects/mod.ts";

const TEXT = "Hello from the fake";
const WEATHER: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};

function client(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
}

for (const { model, backend } of BACKENDS) {
  Deno.test(`openai responses.create() through the gateway to ${backend}`, async () => {
    await withDialectGateway(async ({ gw, fakeOf }) => {
      const res = await client(gw.url).responses.create({ model, instructions: "Be brief.", input: "hi" });
      assert.equal(res.output_text, TEXT);
      assert.equal(res.status, "completed");
      assert.equal(res.model, model);
      assert.equal(res.usage?.output_tokens, 4);
      assert.match(res.id, /^resp_/);
      const sent = fakeOf(model).requests.at(-1)!.json!;
      assert.equal(sent.model, backend === "vllm" ? "Qwen/Qwen3-8B" : "qwen3:0.6b");
      const line = accessLines(gw).at(-1)!;
      assert.deepEqual([line.route, line.dialect, line.model], ["/v1/responses", "responses", model]);
    });
  });

  Deno.test(`openai responses.stream() gets text chunk by chunk from ${backend}`, async () => {
    await withDialectGateway(async ({ gw, fakeOf }) => {
      const fake = fakeOf(model);
      const release = fake.hold();
      let openAtFirst = -1;
      let text = "";
      const stream = client(gw.url).responses.stream({ model, input: [{ role: "user", content: "hi" }] });
      stream.on("response.output_text.delta", (e) => {
        if (openAtFirst < 0) {
          openAtFirst = fake.openStreams;
          release();
        }
        text += e.delta;
      });
      const final = await stream.finalResponse();
      assert.equal(openAtFirst, 1, "deltas reached the client while the upstream still streamed");
      assert.equal(text, TEXT);
      assert.equal(final.output_text, TEXT);
      assert.equal(final.model, model);
      assert.equal(final.usage?.output_tokens, 4);
    });
  });

  Deno.test(`openai responses.stream() rebuilds a function call from ${backend}`, async () => {
    await withDialectGateway(async ({ gw }) => {
      const final = await client(gw.url).responses.stream({
        model,
        input: "Weather in Paris?",
        tools: [WEATHER],
      })
        .finalResponse();
      const calls = final.output.filter((o) => o.type === "function_call");
      assert.equal(calls.length, 1);
      const call = calls[0] as OpenAI.Responses.ResponseFunctionToolCall;
      assert.equal(call.name, "get_weather");
      assert.deepEqual(JSON.parse(call.arguments), TOOL_ARGUMENTS);
      // The stateless gateway takes the whole conversation back, function output included.
      const next = await client(gw.url).responses.create({
        model,
        tools: [WEATHER],
        input: [
          { role: "user", content: "Weather in Paris?" },
          { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: "function_call_output", call_id: call.call_id, output: "sunny" },
        ],
      });
      assert.equal(next.output_text, TEXT);
    });
  });
}

Deno.test("openai chat completions with an aliased model name: the answer and the header name the model", async () => {
  await withDialectGateway(async ({ gw, ollama }) => {
    const { data, response } = await client(gw.url).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    }).withResponse();
    assert.equal(data.choices[0].message.content, TEXT);
    assert.equal(data.model, "qwen3-ollama");
    assert.equal(response.headers.get("x-dairouter-model"), "qwen3-ollama");
    assert.equal(ollama.last("/api/chat").json!.model, "qwen3:0.6b");
    let text = "";
    const stream = await client(gw.url).chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    });
    for await (const chunk of stream) {
      assert.equal(chunk.model, "qwen3-ollama");
      text += chunk.choices[0]?.delta?.content ?? "";
    }
    assert.equal(text, TEXT);
    const models = await client(gw.url).models.list();
    const alias = models.data.find((m) => m.id === "gpt-4o-mini") as unknown as Record<string, unknown>;
    assert.equal(alias.alias_of, "qwen3-ollama");
    const one = await client(gw.url).models.retrieve("claude-opus-4-1");
    assert.equal((one as unknown as Record<string, unknown>).alias_of, "qwen3-vllm");
  });
});

Deno.test("openai chat completions: a backend's own model name comes back as the public one (JSON and SSE)", async () => {
  await withDialectGateway(async ({ gw, vllm }) => {
    const c = client(gw.url);
    const whole = await c.chat.completions.create({
      model: "qwen3-vllm",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(whole.model, "qwen3-vllm");
    assert.equal(vllm.last("/v1/chat/completions").json!.model, "Qwen/Qwen3-8B");
    const stream = await c.chat.completions.create({
      model: "qwen3-vllm",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    });
    const models = new Set<string>();
    for await (const chunk of stream) models.add(chunk.model);
    assert.deepEqual([...models], ["qwen3-vllm"]);
  });
});
