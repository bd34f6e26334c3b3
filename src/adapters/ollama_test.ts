import assert from "node:assert/strict";
import { BadRequestError, UpstreamError } from "../errors.ts";
import {
  callJson,
  fixtureJson,
  fixtureText,
  headersObject,
  jsonInput,
  multipartInput,
  runStream,
} from "./_testing.ts";
import { OLLAMA_PATHS, ollamaAdapter } from "./ollama.ts";
import { createOllamaChatStream } from "./ollama_response.ts";

const BASE = "http://127.0.0.1:11434";
const NATIVE = { baseUrl: BASE, path: "/api/chat" };

Deno.test("ollama forwards chat untouched to its OpenAI route /v1/chat/completions", () => {
  const input = jsonInput("chat", { model: "qwen3", messages: [], tools: [], x_extra: 1 }, {
    target: { baseUrl: BASE },
  });
  const call = ollamaAdapter.prepare(input);
  assert.equal(call.url, `${BASE}/v1/chat/completions`);
  assert.equal(call.body, input.body.bytes);
  assert.equal(call.mapJson, undefined);
  assert.equal(call.mapStream, undefined);
});

Deno.test("ollama sends /v1/completions and image generation to its OpenAI routes", () => {
  const legacy = ollamaAdapter.prepare(jsonInput("chat", { prompt: "hi" }, { route: "/v1/completions" }));
  assert.equal(legacy.url, "http://127.0.0.1:9000/v1/completions");
  const img = ollamaAdapter.prepare(jsonInput("imgGen", { model: "x/z-image-turbo", prompt: "a cat" }));
  assert.equal(img.url, "http://127.0.0.1:9000/v1/images/generations");
});

Deno.test("ollama translates embeddings to /api/embed and keeps dimensions and vendor fields", () => {
  const call = ollamaAdapter.prepare(jsonInput("embedding", {
    model: "nomic-embed-text",
    input: ["a", "b"],
    encoding_format: "float",
    dimensions: 256,
    keep_alive: "5m",
  }, { target: { baseUrl: BASE, apiKey: "k" } }));
  assert.equal(call.method, "POST");
  assert.equal(call.url, `${BASE}/api/embed`);
  assert.deepEqual(headersObject(call.headers), {
    authorization: "Bearer k",
    "content-type": "application/json",
  });
  assert.deepEqual(callJson(call), {
    dimensions: 256,
    keep_alive: "5m",
    model: "nomic-embed-text",
    input: ["a", "b"],
  });
});

Deno.test("ollama maps /api/embed answers to the OpenAI embeddings list", async () => {
  const call = ollamaAdapter.prepare(
    jsonInput("embedding", { model: "nomic-embed-text", input: ["a", "b"] }),
  );
  assert.ok(call.mapJson);
  assert.deepEqual(call.mapJson(await fixtureJson("ollama", "embed_response.json")), {
    object: "list",
    data: [
      { object: "embedding", index: 0, embedding: [0.010071029, -0.0017594862, 0.05007221] },
      { object: "embedding", index: 1, embedding: [-0.0098027075, 0.06042469, 0.025257962] },
    ],
    model: "nomic-embed-text",
    usage: { prompt_tokens: 8, total_tokens: 8 },
  });
});

Deno.test("ollama answers base64 embeddings as little-endian float32 (the OpenAI SDK default)", () => {
  const call = ollamaAdapter.prepare(
    jsonInput("embedding", { model: "e", input: "a", encoding_format: "base64" }),
  );
  assert.deepEqual(callJson(call), { model: "e", input: "a" });
  const out = call.mapJson!({ model: "e", embeddings: [[1, -2]], prompt_eval_count: 1 }) as {
    data: { embedding: string }[];
  };
  const bytes = Uint8Array.from(atob(out.data[0].embedding), (c) => c.charCodeAt(0));
  assert.deepEqual([...new Float32Array(bytes.buffer)], [1, -2]);
});

Deno.test("ollama refuses token-id embedding input with a BadRequestError", () => {
  assert.throws(
    () => ollamaAdapter.prepare(jsonInput("embedding", { model: "e", input: [[1, 2]] })),
    BadRequestError,
  );
});

Deno.test("ollama forwards a configured /v1/embeddings path untouched", () => {
  const input = jsonInput("embedding", { model: "e", input: "a" }, { target: { path: "/v1/embeddings" } });
  const call = ollamaAdapter.prepare(input);
  assert.equal(call.url, "http://127.0.0.1:9000/v1/embeddings");
  assert.equal(call.body, input.body.bytes);
  assert.equal(call.mapJson, undefined);
});

Deno.test("ollama native chat translates options, format, images, tools and keeps unknown fields", () => {
  const call = ollamaAdapter.prepare(jsonInput("chat", {
    model: "qwen3",
    messages: [
      { role: "system", content: "Be terse." },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "call_1",
          type: "function",
          function: { name: "lookup", arguments: '{"q":"x"}' },
        }],
      },
      { role: "tool", tool_call_id: "call_1", content: "42" },
    ],
    tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
    response_format: { type: "json_schema", json_schema: { name: "a", schema: { type: "object" } } },
    temperature: 0.1,
    max_tokens: 64,
    stop: "END",
    keep_alive: "10m",
    think: false,
  }, { target: NATIVE }));
  assert.equal(call.url, `${BASE}/api/chat`);
  assert.deepEqual(callJson(call), {
    model: "qwen3",
    messages: [
      { role: "system", content: "Be terse." },
      { role: "user", content: "What is this?", images: ["iVBORw0KGgo="] },
      {
        role: "assistant",
        content: "",
        tool_calls: [{ function: { name: "lookup", arguments: { q: "x" } } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "42", tool_name: "lookup" },
    ],
    tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
    format: { type: "object" },
    keep_alive: "10m",
    think: false,
    options: { temperature: 0.1, num_predict: 64, stop: ["END"] },
    stream: false,
  });
});

Deno.test("ollama native chat refuses remote image URLs with a BadRequestError", () => {
  const messages = [{
    role: "user",
    content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }],
  }];
  assert.throws(
    () => ollamaAdapter.prepare(jsonInput("chat", { model: "m", messages }, { target: NATIVE })),
    (e) => e instanceof BadRequestError && /data: URLs/.test(e.message),
  );
});

Deno.test("ollama native chat maps the JSON answer to chat.completion", async () => {
  const call = ollamaAdapter.prepare(jsonInput("chat", { model: "qwen3", messages: [] }, { target: NATIVE }));
  assert.equal(call.mapStream, undefined);
  assert.deepEqual(call.mapJson!(await fixtureJson("ollama", "chat_response.json")), {
    id: "chatcmpl-ollama-1748386497",
    object: "chat.completion",
    created: 1748386497,
    model: "qwen3:1.7b",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "The sky is blue because of Rayleigh scattering.",
        reasoning_content: "Short answer.",
      },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage: { prompt_tokens: 26, completion_tokens: 11, total_tokens: 37 },
  });
});

Deno.test("ollama native chat maps tool calls with string arguments and finish_reason tool_calls", async () => {
  const call = ollamaAdapter.prepare(jsonInput("chat", { model: "qwen3", messages: [] }, { target: NATIVE }));
  const out = call.mapJson!(await fixtureJson("ollama", "chat_response_tools.json")) as {
    choices: { message: Record<string, unknown>; finish_reason: string }[];
  };
  assert.deepEqual(out.choices[0].message, {
    role: "assistant",
    content: null,
    tool_calls: [{
      id: "call_1748386498_0",
      type: "function",
      function: { name: "get_current_weather", arguments: '{"location":"Toronto","format":"celsius"}' },
    }],
  });
  assert.equal(out.choices[0].finish_reason, "tool_calls");
});

Deno.test("ollama native chat stream becomes OpenAI SSE, whatever the chunk split", async () => {
  const call = ollamaAdapter.prepare(jsonInput("chat", {
    model: "qwen3",
    messages: [],
    stream: true,
    stream_options: { include_usage: true },
  }, { target: NATIVE }));
  assert.equal((callJson(call) as { stream: boolean }).stream, true);
  assert.equal(call.streamContentType, "text/event-stream");
  assert.equal(call.mapJson, undefined);
  const ndjson = await fixtureText("ollama", "chat_stream.ndjson");
  const expected = await fixtureText("ollama", "chat_stream.sse");
  for (const size of [1, 7, Infinity]) assert.equal(await runStream(call.mapStream!, ndjson, size), expected);
});

Deno.test("ollama native chat stream maps thinking and tool calls", async () => {
  const mapper = () => createOllamaChatStream({ model: "qwen3", includeUsage: false });
  const out = await runStream(mapper, await fixtureText("ollama", "chat_stream_tools.ndjson"), 5);
  assert.equal(out, await fixtureText("ollama", "chat_stream_tools.sse"));
});

Deno.test("ollama native chat stream fails on an error line, a line that is not JSON, or an end before done: true, after what came before", async () => {
  const errorLine = await fixtureText("ollama", "chat_stream_error.ndjson");
  const [first] = errorLine.split("\n");
  for (
    const [ndjson, message] of [
      [errorLine, "an error was encountered while running the model: unexpected EOF"],
      [`${first}\n<html>502 Bad Gateway</html>\n`, "The Ollama stream sent a line that is not JSON."],
      [`${first}\n`, "The Ollama stream ended before its last message (done: true)."],
    ]
  ) {
    const out: string[] = [];
    const mapped = new Response(ndjson).body!.pipeThrough(
      createOllamaChatStream({ model: "qwen3", includeUsage: false }),
    );
    await assert.rejects(
      async () => {
        for await (const chunk of mapped) out.push(new TextDecoder().decode(chunk));
      },
      (e: unknown) =>
        e instanceof UpstreamError && e.code === "upstream_stream_error" && e.message === message,
    );
    assert.equal(
      out.join(""),
      await fixtureText("ollama", "chat_stream_error.sse"),
      "the line before the failure",
    );
  }
});

Deno.test("ollama native chat stream emits each line as soon as it is complete (no buffering)", async () => {
  const stream = createOllamaChatStream({ model: "m", includeUsage: false });
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const enc = new TextEncoder();
  void writer.write(
    enc.encode('{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}\n{"mo'),
  );
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /"content":"Hi"/);
  void writer.close();
  await reader.cancel();
});

Deno.test("ollama sends /v1/completions to the OpenAI route even when the instance path is /api/chat", () => {
  const input = jsonInput("chat", { model: "m", prompt: "x" }, { route: "/v1/completions", target: NATIVE });
  const call = ollamaAdapter.prepare(input);
  assert.equal(call.url, `${BASE}/v1/completions`);
  assert.equal(call.body, input.body.bytes);
});

Deno.test("ollama rejects services it lacks (rerank, tts, image edits) unless a path is configured", () => {
  for (const service of ["rerank", "tts", "imgEdit"] as const) {
    assert.throws(() => ollamaAdapter.prepare(jsonInput(service, { model: "m" })), BadRequestError);
  }
  const call = ollamaAdapter.prepare(jsonInput("rerank", { query: "q", documents: ["a"] }, {
    target: { path: "/v1/rerank" },
  }));
  assert.equal(call.url, "http://127.0.0.1:9000/v1/rerank");
});

// Ollama serves POST /v1/audio/transcriptions since v0.20.0 (ollama/ollama server/routes.go at
// fb30760996871fa9460115c753afd2c60d4ab0f7; TranscriptionMiddleware in middleware/openai.go).
Deno.test("ollama forwards transcriptions untouched to /v1/audio/transcriptions; formats it cannot produce are refused", () => {
  for (const format of [undefined, "json", "text"]) {
    const input = multipartInput("stt", {
      model: "gemma4:e2b",
      ...(format ? { response_format: format } : {}),
    });
    const call = ollamaAdapter.prepare(input);
    assert.equal(call.url, "http://127.0.0.1:9000/v1/audio/transcriptions");
    assert.equal(call.body, input.body.bytes);
  }
  for (const format of ["verbose_json", "srt", "vtt"]) {
    const input = multipartInput("stt", { model: "gemma4:e2b", response_format: format });
    assert.throws(() => ollamaAdapter.prepare(input), new RegExp(`"${format}" is not supported`));
  }
});

// Ollama's legacy route (api/types.go EmbeddingRequest {model, prompt, keep_alive, options} →
// EmbeddingResponse {embedding}, at fb30760996871fa9460115c753afd2c60d4ab0f7), which JAiRouter's
// src/main/resources/config/router/services.yml configures as `path: "/api/embeddings"`.
Deno.test("ollama translates embeddings for a configured legacy /api/embeddings path to {model, prompt}", async () => {
  const target = { baseUrl: BASE, path: "/api/embeddings" };
  for (const input of ["你好", ["你好"]]) {
    const call = ollamaAdapter.prepare(jsonInput("embedding", {
      model: "shaw/dmeta-embedding-zh:latest",
      input,
      encoding_format: "float",
      keep_alive: "5m",
      user: "u1",
    }, { target }));
    assert.equal(call.url, `${BASE}/api/embeddings`);
    assert.deepEqual(callJson(call), {
      keep_alive: "5m",
      model: "shaw/dmeta-embedding-zh:latest",
      prompt: "你好",
    });
    assert.deepEqual(call.mapJson!(await fixtureJson("ollama", "embeddings_legacy_response.json")), {
      object: "list",
      data: [{
        object: "embedding",
        index: 0,
        embedding: [0.5670403838157654, 0.009260174818336964, 0.23178744316101074, -0.2916173040866852],
      }],
      model: "shaw/dmeta-embedding-zh:latest",
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  }
  const b64 = ollamaAdapter.prepare(
    jsonInput("embedding", { model: "m", input: "x", encoding_format: "base64" }, {
      target,
    }),
  );
  assert.deepEqual(b64.mapJson!({ embedding: [1] }), {
    object: "list",
    data: [{ object: "embedding", index: 0, embedding: "AACAPw==" }],
    model: "m",
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
});

Deno.test("ollama legacy /api/embeddings refuses batches and dimensions with the fix in the message", () => {
  const target = { baseUrl: BASE, path: "/api/embeddings" };
  assert.throws(
    () => ollamaAdapter.prepare(jsonInput("embedding", { model: "m", input: ["a", "b"] }, { target })),
    (e: unknown) =>
      e instanceof BadRequestError && e.param === "input" &&
      /one text per request; received 2\. .*path to \/api\/embed/.test(e.message),
  );
  assert.throws(
    () =>
      ollamaAdapter.prepare(jsonInput("embedding", { model: "m", input: "a", dimensions: 8 }, { target })),
    (e: unknown) => e instanceof BadRequestError && e.param === "dimensions",
  );
  assert.throws(
    () =>
      ollamaAdapter.prepare(jsonInput("embedding", { model: "m", input: "a" }, { target }))
        .mapJson!({ error: "model not found" }),
    /no vector list/,
  );
});

Deno.test("ollama probes GET /api/tags", () => {
  const probe = ollamaAdapter.probe("embedding", { baseUrl: BASE, headers: {} });
  assert.equal(probe.url, `${BASE}${OLLAMA_PATHS.probe}`);
  assert.equal(probe.method, "GET");
});
