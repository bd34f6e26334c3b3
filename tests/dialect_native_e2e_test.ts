/**
 * Native pass-through, over real sockets: an instance with `native-dialects` gets the client's
 * own request on its backend's route (vLLM's `/v1/messages` and `/v1/responses`, Ollama's
 * `/api/chat` and `/api/generate`), untranslated, and its answer goes back as it came — except
 * the model's public name, put back where the backend answered with its own. The official
 * clients read those answers; usage is still counted.
 */

import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { Ollama } from "ollama";
import { accessLines, OLLAMA_NATIVE, VLLM_NATIVE, withDialectGateway } from "./fakes/dialect_gateway.ts";
import { NATIVE_TEXT } from "./fakes/dialects/native.ts";
import { OLLAMA_MODELS, REPLY_WORDS } from "./fakes/dialects/mod.ts";

const anthropic = (url: string) => new Anthropic({ baseURL: url, apiKey: "unused", maxRetries: 0 });
const openai = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });

Deno.test("Anthropic requests for a native instance go to vLLM's /v1/messages as sent, whole and streamed", async () => {
  await withDialectGateway(async ({ gw, vllm }) => {
    const params = {
      model: VLLM_NATIVE,
      max_tokens: 32,
      system: "Be brief.",
      messages: [{ role: "user" as const, content: "hi" }],
      metadata: { user_id: "u-1" },
    };
    const msg = await anthropic(gw.url).messages.create(params);
    assert.deepEqual(msg.content, [{ type: "text", text: NATIVE_TEXT }]);
    assert.equal(msg.model, VLLM_NATIVE);
    assert.deepEqual(vllm.last("/v1/messages").json, params, "the client's body, untranslated");
    assert.equal(vllm.requests.filter((r) => r.path === "/v1/chat/completions").length, 0);

    let text = "";
    const stream = anthropic(gw.url).messages.stream(params);
    stream.on("text", (d) => text += d);
    const final = await stream.finalMessage();
    assert.equal(text, NATIVE_TEXT);
    assert.equal(final.stop_reason, "end_turn");
    assert.equal(vllm.last("/v1/messages").json!.stream, true);
    const line = accessLines(gw).at(-1)!;
    assert.deepEqual([line.dialect, line.stream, line.tokensIn, line.tokensOut], ["anthropic", true, 12, 6]);
  });
});

Deno.test("Responses requests for a native instance go to vLLM's /v1/responses as sent, whole and streamed", async () => {
  await withDialectGateway(async ({ gw, vllm }) => {
    const res = await openai(gw.url).responses.create({ model: VLLM_NATIVE, input: "hi", store: false });
    assert.equal(res.output_text, NATIVE_TEXT);
    assert.equal(res.model, VLLM_NATIVE);
    assert.deepEqual(vllm.last("/v1/responses").json, { model: VLLM_NATIVE, input: "hi", store: false });
    const final = await openai(gw.url).responses.stream({ model: VLLM_NATIVE, input: "hi" }).finalResponse();
    assert.equal(final.output_text, NATIVE_TEXT);
    assert.equal(accessLines(gw).at(-1)!.tokensOut, 6);
  });
});

Deno.test("Ollama requests for a native instance reach Ollama untranslated; its model name goes back public", async () => {
  await withDialectGateway(async ({ gw, ollama }) => {
    const client = new Ollama({ host: gw.url });
    const chat = await client.chat({
      model: OLLAMA_NATIVE,
      messages: [{ role: "user", content: "hi" }],
      keep_alive: "1m",
    });
    assert.equal(chat.message.content, REPLY_WORDS.join(""));
    assert.equal(chat.model, OLLAMA_NATIVE, "Ollama said llama3.2:1b");
    assert.deepEqual(ollama.last("/api/chat").json, {
      model: OLLAMA_MODELS.chat,
      messages: [{ role: "user", content: "hi" }],
      keep_alive: "1m",
      stream: false,
    });
    const models = new Set<string>();
    let text = "";
    for await (const part of await client.generate({ model: OLLAMA_NATIVE, prompt: "hi", stream: true })) {
      models.add(part.model);
      text += part.response;
    }
    assert.equal(text, NATIVE_TEXT);
    assert.deepEqual([...models], [OLLAMA_NATIVE], "every NDJSON line renamed");
    assert.equal(ollama.last("/api/generate").json!.prompt, "hi");
    assert.equal(accessLines(gw).at(-1)!.tokensOut, 6);
  });
});

Deno.test("the same dialect request to an instance without native-dialects is translated", async () => {
  await withDialectGateway(async ({ gw, vllm }) => {
    const msg = await anthropic(gw.url).messages.create({
      model: "qwen3-vllm",
      max_tokens: 32,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.deepEqual(msg.content, [{ type: "text", text: REPLY_WORDS.join("") }]);
    assert.equal(vllm.requests.filter((r) => r.path === "/v1/messages").length, 0);
  });
});
