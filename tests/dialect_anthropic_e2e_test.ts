/**
 * The official `@anthropic-ai/sdk` through a real gateway, over real sockets, against two
 * backends of different dialects (vLLM's OpenAI chat with SSE, Ollama's native chat with NDJSON):
 * `messages.create`, `messages.stream` with text and with a tool call, streamed chunk by chunk,
 * aliases (`claude-*`), the public model name in answers, `count_tokens`, and the `anthropic`
 * label on the access log and metrics.
 */

import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { accessLines, BACKENDS, withDialectGateway } from "./fakes/dialect_gateway.ts";
import { TOOL_ARGUMENTS } from "./fakes/dialects/mod.ts";

const TEXT = "Hello from the fake";
const WEATHER: Anthropic.Tool = {
  name: "get_weather",
  description: "Weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

function client(url: string): Anthropic {
  return new Anthropic({ baseURL: url, apiKey: "unused", maxRetries: 0 });
}

const ask = (model: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) => ({
  model,
  max_tokens: 64,
  system: "Be brief.",
  messages: [{ role: "user" as const, content: "hi" }],
  ...extra,
});

for (const { model, backend } of BACKENDS) {
  Deno.test(`@anthropic-ai/sdk messages.create() through the gateway to ${backend}`, async () => {
    await withDialectGateway(async ({ gw, fakeOf }) => {
      const msg = await client(gw.url).messages.create(ask(model));
      assert.deepEqual(msg.content, [{ type: "text", text: TEXT }]);
      assert.equal(msg.model, model, "the public name, not the backend's");
      assert.equal(msg.stop_reason, "end_turn");
      assert.deepEqual(msg.usage, { input_tokens: backend === "vllm" ? 9 : 11, output_tokens: 4 });
      assert.match(msg.id, /^msg_[0-9a-z]{32}$/);
      const sent = fakeOf(model).requests.at(-1)!.json!;
      assert.equal(sent.model, backend === "vllm" ? "Qwen/Qwen3-8B" : "qwen3:0.6b");
      const line = accessLines(gw).at(-1)!;
      assert.deepEqual([line.route, line.dialect, line.model, line.status], [
        "/v1/messages",
        "anthropic",
        model,
        200,
      ]);
    });
  });

  Deno.test(`@anthropic-ai/sdk messages.stream() gets text chunk by chunk from ${backend}`, async () => {
    await withDialectGateway(async ({ gw, fakeOf }) => {
      const fake = fakeOf(model);
      const release = fake.hold();
      let openAtFirst = -1;
      let text = "";
      const stream = client(gw.url).messages.stream(ask(model));
      stream.on("text", (delta) => {
        if (openAtFirst < 0) {
          openAtFirst = fake.openStreams;
          release();
        }
        text += delta;
      });
      const msg = await stream.finalMessage();
      assert.equal(openAtFirst, 1, "the first words reached the client while the upstream still streamed");
      assert.equal(text, TEXT);
      assert.equal(msg.stop_reason, "end_turn");
      assert.equal(msg.usage.output_tokens, 4);
      assert.equal(msg.model, model);
      const line = accessLines(gw).at(-1)!;
      assert.deepEqual([line.dialect, line.stream, line.tokensOut], ["anthropic", true, 4]);
    });
  });

  Deno.test(`@anthropic-ai/sdk messages.stream() rebuilds a tool call from ${backend}`, async () => {
    await withDialectGateway(async ({ gw }) => {
      const msg = await client(gw.url).messages.stream(ask(model, { tools: [WEATHER] })).finalMessage();
      assert.equal(msg.stop_reason, "tool_use");
      const calls = msg.content.filter((b) => b.type === "tool_use");
      assert.equal(calls.length, 1);
      assert.equal(calls[0].type === "tool_use" && calls[0].name, "get_weather");
      assert.deepEqual(calls[0].type === "tool_use" && calls[0].input, TOOL_ARGUMENTS);
      // The tool's answer goes back in the next turn and the model answers in text.
      const id = calls[0].type === "tool_use" ? calls[0].id : "";
      const next = await client(gw.url).messages.create(ask(model, {
        tools: [WEATHER],
        messages: [
          { role: "user", content: "Weather in Paris?" },
          { role: "assistant", content: msg.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "sunny" }] },
        ],
      }));
      assert.deepEqual(next.content, [{ type: "text", text: TEXT }]);
    });
  });
}

Deno.test("@anthropic-ai/sdk with a Claude model name reaches the aliased model, which the answer names", async () => {
  await withDialectGateway(async ({ gw, vllm }) => {
    const { data, response } = await client(gw.url).messages.create(ask("claude-sonnet-4-5")).withResponse();
    assert.equal(data.model, "qwen3-vllm");
    assert.equal(response.headers.get("x-dairouter-model"), "qwen3-vllm");
    assert.equal(vllm.last("/v1/chat/completions").json!.model, "Qwen/Qwen3-8B");
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(
      metrics,
      /dairouter_requests_total\{service="chat",model="qwen3-vllm",instance="[^"]+",status="200",dialect="anthropic"\} 1/,
    );
  });
});

Deno.test("@anthropic-ai/sdk messages.countTokens() gets the gateway's estimate for a known model", async () => {
  await withDialectGateway(async ({ gw }) => {
    const count = await client(gw.url).messages.countTokens({
      model: "claude-haiku-4-5",
      messages: [{ role: "user", content: "hello there" }],
    });
    assert.equal(count.input_tokens, 4 + 3);
    await assert.rejects(
      client(gw.url).messages.countTokens({ model: "gpt-5", messages: [{ role: "user", content: "x" }] }),
      (err: Error) => err instanceof Anthropic.NotFoundError && /"gpt-5" does not exist/.test(err.message),
    );
  });
});
