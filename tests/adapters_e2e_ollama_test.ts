/**
 * Adapters end to end (issue 5), Ollama: its OpenAI-compatible `/v1` routes untouched, native
 * `/api/chat` (JSON and NDJSON streams, tool calls, mid-stream errors) and `/api/embed` translated,
 * driven by the official `openai` SDK through a real gateway.
 */

import assert from "node:assert/strict";
import OpenAI from "openai";
import {
  assertProbe,
  assertRefused,
  audioFile,
  DOCS,
  legacyVectorOf,
  OLLAMA_MODELS,
  OLLAMA_TOOL_CALL,
  REPLY_WORDS,
  startOllama,
  streamChat,
  USER,
  vectorOf,
  withGateway,
} from "./fakes/dialects/mod.ts";
import type { Mount } from "./fakes/dialects/mod.ts";
import type { DialectFake } from "./fakes/dialects/server.ts";

const REPLY = REPLY_WORDS.join("");
const { chat: CHAT, embed: EMBED, legacyEmbed: LEGACY, stt: STT, native: NATIVE, broken: BROKEN } =
  OLLAMA_MODELS;

function mounts(fake: DialectFake): Mount[] {
  return [
    { service: "chat", model: CHAT, fake, adapter: "ollama" },
    { service: "chat", model: NATIVE, fake, adapter: "ollama", path: "/api/chat" },
    { service: "chat", model: BROKEN, fake, adapter: "ollama", path: "/api/chat" },
    { service: "chat", model: "ghost", fake, adapter: "ollama", path: "/api/chat" },
    { service: "embedding", model: EMBED, fake, adapter: "ollama" },
    // As JAiRouter's src/main/resources/config/router/services.yml configures it.
    { service: "embedding", model: LEGACY, fake, adapter: "ollama", path: "/api/embeddings" },
    { service: "stt", model: STT, fake, adapter: "ollama" },
    { service: "rerank", model: "bge-reranker", fake, adapter: "ollama" },
  ];
}

Deno.test("ollama adapter: /v1 chat untouched, native chat and NDJSON stream as incremental SSE, /api/tags probe", async () => {
  const fake = startOllama();
  await withGateway([fake], mounts(fake), async ({ client }) => {
    const chat = await client.chat.completions.create({ model: CHAT, messages: USER });
    assert.equal(chat.choices[0].message.content, REPLY);
    assert.equal(fake.requests.at(-1)?.path, "/v1/chat/completions");

    const native = await client.chat.completions.create({ model: NATIVE, messages: USER, max_tokens: 8 });
    assert.equal(native.object, "chat.completion");
    assert.equal(native.choices[0].message.content, REPLY);
    assert.equal(native.choices[0].finish_reason, "stop");
    assert.deepEqual(native.usage, { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
    assert.deepEqual(fake.last("/api/chat").json, {
      model: NATIVE,
      messages: USER,
      options: { num_predict: 8 },
      stream: false,
    });

    const streamed = await streamChat(client, NATIVE, fake);
    assert.equal(streamed.text, REPLY);
    assert.equal(streamed.finish, "stop");
    assert.equal(streamed.openAtFirst, 1, "NDJSON lines became SSE events while Ollama was still sending");
    assert.equal(streamed.usage, undefined, "usage the client did not ask for stays hidden");
    assert.equal(fake.last("/api/chat").json?.stream, true);
    assert.equal(
      fake.last("/api/chat").json?.stream_options,
      undefined,
      "Ollama's native API has no such field",
    );

    const counted = await streamChat(client, NATIVE, fake, {
      stream_options: { include_usage: true },
    });
    assert.deepEqual(counted.usage, { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });

    await assertProbe(fake, { adapter: "ollama", service: "chat", path: "/api/tags" });
  });
});

Deno.test("ollama adapter: native tool calls stream into the SDK's accumulator and tool results go back by name", async () => {
  const fake = startOllama();
  const tools: OpenAI.ChatCompletionTool[] = [{
    type: "function",
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  }];
  await withGateway([fake], mounts(fake), async ({ client }) => {
    const runner = client.chat.completions.stream({ model: NATIVE, messages: USER, tools });
    const first = await runner.finalChatCompletion();
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, "tool_calls");
    const call = choice.message.tool_calls?.[0];
    assert.ok(call?.type === "function" && call.id, "a tool call with an id");
    assert.equal(call.function.name, OLLAMA_TOOL_CALL.name);
    assert.deepEqual(JSON.parse(call.function.arguments), OLLAMA_TOOL_CALL.arguments);

    const answer = await client.chat.completions.create({
      model: NATIVE,
      tools,
      messages: [
        ...USER,
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: call.id, content: "sunny" },
      ],
    });
    assert.equal(answer.choices[0].message.content, REPLY);
    const sent = fake.last("/api/chat").json?.messages as Record<string, unknown>[];
    assert.deepEqual(sent[1].tool_calls, [{ function: OLLAMA_TOOL_CALL }], "arguments go back as an object");
    assert.equal(sent[2].tool_name, OLLAMA_TOOL_CALL.name, "Ollama matches tool results by function name");
  });
});

Deno.test("ollama adapter: /api/embed with the SDK's base64 default, refusals, mid-stream and 404 errors", async () => {
  const fake = startOllama();
  await withGateway([fake], mounts(fake), async ({ client, post }) => {
    const emb = await client.embeddings.create({ model: EMBED, input: ["a", "b"] });
    assert.deepEqual(emb.data.map((d) => d.embedding), [vectorOf(0), vectorOf(1)]);
    assert.deepEqual(emb.usage, { prompt_tokens: 6, total_tokens: 6 });
    assert.deepEqual(fake.last("/api/embed").json, { model: EMBED, input: ["a", "b"] });
    const one = await client.embeddings.create({ model: EMBED, input: "a", encoding_format: "float" });
    assert.deepEqual(one.data[0].embedding, vectorOf(0));
    assert.equal(fake.last("/api/embed").json?.input, "a");

    const image = { type: "image_url", image_url: { url: "https://x/cat.png" } };
    await assertRefused(post, fake, [
      {
        path: "/v1/chat/completions",
        body: { model: NATIVE, messages: [{ role: "user", content: [image] }] },
        error: /base64 data: URLs/,
      },
      {
        path: "/v1/rerank",
        body: { model: "bge-reranker", query: "q", documents: DOCS },
        error: {
          message: "The Ollama backend does not serve rerank.",
          type: "invalid_request_error",
          code: "unsupported_by_backend",
          param: null,
        },
      },
    ]);

    const broken = await client.chat.completions.create({ model: BROKEN, messages: USER, stream: true });
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of broken) seen.push(chunk.choices[0]?.delta?.content ?? "");
      })(),
      (e: unknown) => e instanceof OpenAI.APIError && /llama runner process has terminated/.test(e.message),
    );
    assert.deepEqual(seen, [REPLY_WORDS[0]], "the tokens before the failure arrived");

    await assert.rejects(
      client.chat.completions.create({ model: "ghost", messages: USER }),
      (e: unknown) =>
        e instanceof OpenAI.NotFoundError && /ghost.*not found, try pulling it first/.test(e.message),
    );
  });
});

Deno.test("ollama adapter: JAiRouter's legacy /api/embeddings path gets {model, prompt}; batches are a clear 400", async () => {
  const fake = startOllama();
  await withGateway([fake], mounts(fake), async ({ client }) => {
    // The SDK asks for base64 by default; the gateway encodes the legacy route's floats for it.
    const emb = await client.embeddings.create({ model: LEGACY, input: "你好" });
    assert.deepEqual(emb.data.map((d) => d.embedding), [legacyVectorOf("你好")]);
    assert.equal(emb.model, LEGACY);
    assert.deepEqual(fake.last("/api/embeddings").json, { model: LEGACY, prompt: "你好" });
    const listed = await client.embeddings.create({
      model: LEGACY,
      input: ["abc"],
      encoding_format: "float",
    });
    assert.deepEqual(listed.data[0].embedding, legacyVectorOf("abc"));

    const before = fake.requests.length;
    await assert.rejects(
      client.embeddings.create({ model: LEGACY, input: ["a", "b"] }),
      (e: unknown) =>
        e instanceof OpenAI.BadRequestError && /one text per request; received 2/.test(e.message) &&
        /path to \/api\/embed/.test(e.message),
    );
    assert.equal(fake.requests.length, before, "refused before reaching Ollama");
  });
});

Deno.test("ollama adapter: transcriptions go to its /v1/audio/transcriptions (json and text); others refused", async () => {
  const fake = startOllama();
  await withGateway([fake], mounts(fake), async ({ client }) => {
    const json = await client.audio.transcriptions.create({ model: STT, file: await audioFile() });
    assert.equal(json.text, "heard 16 bytes of hello.wav");
    const sent = fake.last("/v1/audio/transcriptions").form;
    assert.equal(sent?.get("model"), STT);
    assert.equal((sent?.get("file") as File).name, "hello.wav");
    const text = await client.audio.transcriptions.create({
      model: STT,
      file: await audioFile(),
      response_format: "text",
    });
    assert.equal(text, "heard 16 bytes of hello.wav");
    await assert.rejects(
      client.audio.transcriptions.create({ model: STT, file: await audioFile(), response_format: "srt" }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /"srt" is not supported/.test(e.message),
    );
  });
});
