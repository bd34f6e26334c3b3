/**
 * Unknown request fields survive every adapter (issue 5): `tools`, `response_format`, image content
 * parts and a vendor extra field, sent with the official `openai` SDK through one gateway that
 * mounts every backend dialect, must arrive upstream intact (translated only where the backend's
 * native API names them differently).
 */

import assert from "node:assert/strict";
import type OpenAI from "openai";
import {
  type DialectFake,
  type Mount,
  OLLAMA_MODELS,
  startGpustack,
  startInfinity,
  startLlamacpp,
  startLocalai,
  startOllama,
  startOpenai,
  startTei,
  startTriton,
  startVllm,
  startXinference,
  withGateway,
} from "./fakes/dialects/mod.ts";
import { GPUSTACK_KEY } from "./fakes/dialects/gpustack.ts";
import type { AdapterName } from "../src/types.ts";

const PNG = "iVBORw0KGgo=";
const TOOLS = [{
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
}];
const SCHEMA = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };

/** A chat request using every field adapters tend to drop, plus vendor extras the SDK does not know. */
function richChat(model: string): OpenAI.ChatCompletionCreateParamsNonStreaming {
  const params = {
    model,
    messages: [
      { role: "system" as const, content: "Answer in JSON." },
      {
        role: "user" as const,
        content: [
          { type: "text" as const, text: "What is in the picture?" },
          {
            type: "image_url" as const,
            image_url: { url: `data:image/png;base64,${PNG}`, detail: "low" as const },
          },
        ],
      },
    ],
    tools: TOOLS,
    tool_choice: "auto" as const,
    response_format: {
      type: "json_schema" as const,
      json_schema: { name: "answer", strict: true, schema: SCHEMA },
    },
    temperature: 0.2,
    // Vendor extras: vLLM/SGLang template switches and top_k.
    chat_template_kwargs: { enable_thinking: false },
    top_k: 20,
  };
  return params;
}

/** Backends whose OpenAI-compatible chat route must receive the SDK's body unchanged. */
const PASS_THROUGH: readonly [AdapterName, () => DialectFake, string, string?][] = [
  ["openai", startOpenai, "/v1/chat/completions"],
  ["vllm", startVllm, "/v1/chat/completions"],
  ["ollama", startOllama, "/v1/chat/completions"],
  ["gpustack", startGpustack, "/v1-openai/chat/completions", GPUSTACK_KEY],
  ["xinference", startXinference, "/v1/chat/completions"],
  ["localai", startLocalai, "/v1/chat/completions"],
  ["llamacpp", startLlamacpp, "/v1/chat/completions"],
  ["triton", startTriton, "/v1/chat/completions"],
];

Deno.test("tools, response_format, image parts and vendor fields reach every backend intact", async () => {
  const fakes = new Map<AdapterName, DialectFake>(PASS_THROUGH.map(([name, start]) => [name, start()]));
  const tei = startTei();
  const infinity = startInfinity();
  const ollama = fakes.get("ollama")!;
  const mounts: Mount[] = PASS_THROUGH.map(([adapter, _start, _path, apiKey]) => ({
    service: "chat",
    model: `${adapter}-chat`,
    fake: fakes.get(adapter)!,
    adapter,
    apiKey,
  }));
  // Ollama's native chat (an instance path of /api/chat) translates; the fake knows this model.
  mounts.push({
    service: "chat",
    model: OLLAMA_MODELS.native,
    fake: ollama,
    adapter: "ollama",
    path: "/api/chat",
  });
  mounts.push({ service: "embedding", model: "tei-emb", fake: tei, adapter: "tei" });
  mounts.push({ service: "embedding", model: "infinity-emb", fake: infinity, adapter: "infinity" });

  await withGateway([...fakes.values(), tei, infinity], mounts, async ({ client }) => {
    for (const [adapter, _start, path] of PASS_THROUGH) {
      const params = richChat(`${adapter}-chat`);
      const res = await client.chat.completions.create(params);
      assert.equal(res.object, "chat.completion", adapter);
      assert.deepEqual(fakes.get(adapter)!.last(path).json, params, `${adapter} received the body as sent`);
    }

    const native = await client.chat.completions.create(richChat(OLLAMA_MODELS.native));
    assert.equal(native.object, "chat.completion");
    assert.deepEqual(ollama.last("/api/chat").json, {
      model: OLLAMA_MODELS.native,
      messages: [
        { role: "system", content: "Answer in JSON." },
        { role: "user", content: "What is in the picture?", images: [PNG] },
      ],
      tools: TOOLS,
      tool_choice: "auto",
      format: SCHEMA,
      chat_template_kwargs: { enable_thinking: false },
      top_k: 20,
      options: { temperature: 0.2 },
      stream: false,
    });

    const extras = { truncate: true, truncation_direction: "Left", prompt_name: "query", normalize: false };
    await client.embeddings.create({ model: "tei-emb", input: ["a"], ...extras });
    assert.deepEqual(tei.last("/embed").json, { ...extras, inputs: ["a"] });
    const vendor = { model: "infinity-emb", input: ["a"], modality: "text", dimensions: 2, user: "u-1" };
    await client.embeddings.create(vendor);
    assert.deepEqual(infinity.last("/embeddings").json, { ...vendor, encoding_format: "base64" });
  });
});

Deno.test("rerank vendor fields reach every rerank backend; TEI and vLLM score get them beside their own names", async () => {
  const cases: readonly [AdapterName, () => DialectFake, string, string?][] = [
    ["openai", startOpenai, "/v1/rerank"],
    ["vllm", startVllm, "/v1/rerank"],
    ["gpustack", startGpustack, "/v1/rerank", GPUSTACK_KEY],
    ["xinference", startXinference, "/v1/rerank"],
    ["localai", startLocalai, "/v1/rerank"],
    ["llamacpp", startLlamacpp, "/v1/rerank"],
    ["infinity", startInfinity, "/rerank"],
    ["tei", startTei, "/rerank"],
  ];
  const fakes = cases.map(([, start]) => start());
  const mounts: Mount[] = cases.map(([adapter, , , apiKey], i) => ({
    service: "rerank",
    model: `${adapter}-rr`,
    fake: fakes[i],
    adapter,
    apiKey,
  }));
  const score = startVllm();
  mounts.push({ service: "rerank", model: "vllm-score", fake: score, adapter: "vllm", path: "/v1/score" });
  await withGateway([...fakes, score], mounts, async ({ post }) => {
    const extra = { truncate_prompt_tokens: 256, priority: 1 };
    for (const [i, [adapter, , path]] of cases.entries()) {
      const body = { model: `${adapter}-rr`, query: "deno", documents: ["a", "deno"], ...extra };
      const res = await post("/v1/rerank", body);
      assert.equal(res.status, 200, adapter);
      const seen = fakes[i].last(path).json;
      if (adapter === "tei") {
        assert.deepEqual(seen, { ...extra, query: "deno", texts: ["a", "deno"], return_text: false });
      } else {
        assert.deepEqual(seen, body, `${adapter} received the body as sent`);
      }
    }
    await post("/v1/rerank", { model: "vllm-score", query: "deno", documents: ["a"], ...extra });
    assert.deepEqual(score.last("/v1/score").json, {
      model: "vllm-score",
      ...extra,
      text_1: "deno",
      text_2: ["a"],
    });
  });
});
