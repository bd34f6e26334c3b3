/**
 * Stream edges that the translators' own tests cannot reach, through a real gateway over real
 * sockets with the real client libraries:
 *
 * - an HTML page with a 200, from an Ollama backend behind the adapter's NDJSON → SSE mapper, to a
 *   streamed request, is no stream: the attempt fails before any byte reaches the client and
 *   another instance answers; when every instance answers HTML, the client gets its dialect's 502;
 * - parallel tool calls whose argument pieces interleave, or that all come numbered 0 (as Ollama's
 *   OpenAI endpoint streams them), reach `@anthropic-ai/sdk` in Anthropic's strict event order
 *   (`src/dialects/_anthropic_order.ts`) and the `openai` client's `responses.stream()` with every
 *   call's whole arguments.
 *
 * `withDialectGateway` checks every in-flight count is back to zero after each test.
 */

import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { Ollama } from "ollama";
import { type AnthropicEvent, assertAnthropicOrder } from "../src/dialects/_anthropic_order.ts";
import { accessLines, type MoreChatInstances, withDialectGateway } from "./fakes/dialect_gateway.ts";
import { INTERLEAVE, OLLAMA_MODELS, PARALLEL_ARGUMENTS, SAME_INDEX } from "./fakes/dialects/mod.ts";

const TEXT = "Hello from the fake";
/** An HTML page first (weight 10: each request's first pick), then a healthy instance. */
const HTML_FIRST = "qwen3-html-first";
/** Two instances, both answering an HTML page. */
const HTML_ONLY = "qwen3-html-only";
const NOT_A_STREAM = /upstream answered text\/html to a request for a stream/;

const ollamaInstance = (name: string, id: string, model: string, url: string, weight = 1) => `
        - name: ${name}
          instance-id: ${id}
          base-url: ${url}
          adapter: ollama
          path: /api/chat
          weight: ${weight}
          upstream-model: "${model}"`;

const htmlInstances: MoreChatInstances = ({ ollama }) =>
  ollamaInstance(HTML_FIRST, "html-page", OLLAMA_MODELS.html, ollama.url, 10) +
  ollamaInstance(HTML_FIRST, "html-fine", OLLAMA_MODELS.native, ollama.url) +
  ollamaInstance(HTML_ONLY, "html-a", OLLAMA_MODELS.html, ollama.url) +
  ollamaInstance(HTML_ONLY, "html-b", OLLAMA_MODELS.html, ollama.url);

const anthropic = (url: string) => new Anthropic({ baseURL: url, apiKey: "unused", maxRetries: 0 });
const openai = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
const ask = (model: string, content = "hi") => ({
  model,
  max_tokens: 64,
  messages: [{ role: "user" as const, content }],
});

/** A streamed Messages request sent with plain fetch, so the test sees the bytes themselves. */
const rawMessages = (url: string, body: Record<string, unknown>) =>
  fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "unused", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ ...body, stream: true }),
  });

Deno.test("an HTML page (200) from an Ollama backend fails the attempt before any byte; the next instance answers the stream", async () => {
  await withDialectGateway(
    async ({ gw, ollama }) => {
      const asked = () => ollama.requests.filter((r) => r.path === "/api/chat").map((r) => r.json?.model);

      const raw = await rawMessages(gw.url, ask(HTML_FIRST));
      assert.equal(raw.status, 200);
      assert.equal(raw.headers.get("content-type"), "text/event-stream");
      const bytes = await raw.text();
      assert(bytes.startsWith("event: message_start\n"), `the first byte is the stream's own: ${bytes}`);
      assert(!bytes.includes("<"), "nothing of the page reached the client");
      assert.equal(assertAnthropicOrder(bytes).blocks[0].text, TEXT);
      assert.deepEqual(
        asked(),
        [OLLAMA_MODELS.html, OLLAMA_MODELS.native],
        "the page's instance, then the next",
      );

      const events: AnthropicEvent[] = [];
      const stream = anthropic(gw.url).messages.stream(ask(HTML_FIRST));
      stream.on("streamEvent", (e) => void events.push(e));
      const msg = await stream.finalMessage();
      assert.deepEqual(msg.content, [{ type: "text", text: TEXT }]);
      assert.equal(msg.model, HTML_FIRST);
      assertAnthropicOrder(events);
      assert.deepEqual(asked().slice(2), [OLLAMA_MODELS.html, OLLAMA_MODELS.native]);
      assert.deepEqual(accessLines(gw).map((l) => [l.model, l.status, l.error ?? null]), [
        [HTML_FIRST, 200, null],
        [HTML_FIRST, 200, null],
      ]);
    },
    "",
    "",
    htmlInstances,
  );
});

Deno.test("when every instance answers an HTML page, each dialect's client gets its own 502, not a 200 with a page", async () => {
  await withDialectGateway(
    async ({ gw, ollama }) => {
      await assert.rejects(anthropic(gw.url).messages.stream(ask(HTML_ONLY)).finalMessage(), (err: Error) => {
        assert(err instanceof Anthropic.APIError, String(err));
        assert.equal(err.status, 502);
        assert.equal((err.error as { error: { type: string } }).error.type, "api_error");
        assert.match(err.message, NOT_A_STREAM);
        return true;
      });

      await assert.rejects(
        openai(gw.url).responses.stream({ model: HTML_ONLY, input: "hi" }).finalResponse(),
        (err: Error) => {
          assert(err instanceof OpenAI.APIError, String(err));
          assert.equal(err.status, 502);
          assert.match(err.message, NOT_A_STREAM);
          return true;
        },
      );

      const chat = new Ollama({ host: gw.url }).chat({
        model: HTML_ONLY,
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      });
      await assert.rejects(chat, (err: Error & { status_code?: number }) => {
        assert.equal(err.status_code, 502, String(err));
        assert.match(err.message, NOT_A_STREAM);
        return true;
      });

      // Each request tried both instances before answering.
      const pages = ollama.requests.filter((r) =>
        r.path === "/api/chat" && r.json?.model === OLLAMA_MODELS.html
      );
      assert.equal(pages.length, 6);
      assert.deepEqual(accessLines(gw).map((l) => [l.dialect, l.status]), [
        ["anthropic", 502],
        ["responses", 502],
        ["ollama", 502],
      ]);
    },
    "",
    "",
    htmlInstances,
  );
});

const WEATHER = {
  name: "get_weather",
  description: "Weather in a city",
  parameters: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};
const TIME = {
  name: "get_time",
  description: "Time in a zone",
  parameters: { type: "object" as const, properties: { tz: { type: "string" } }, required: ["tz"] },
};
const EXPECTED_CALLS = [
  ["call_fake1", "get_weather", PARALLEL_ARGUMENTS[0]],
  ["call_fake2", "get_time", PARALLEL_ARGUMENTS[1]],
];

Deno.test("the fake vLLM interleaves the argument pieces of the parallel calls INTERLEAVE asks for", async () => {
  await withDialectGateway(async ({ vllm }) => {
    const res = await fetch(`${vllm.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "m",
        stream: true,
        messages: [{ role: "user", content: INTERLEAVE }],
        tools: [WEATHER, TIME].map((f) => ({ type: "function", function: f })),
      }),
    });
    const order = (await res.text()).split("\n\n").filter((e) => e.startsWith("data: {"))
      .flatMap((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.tool_calls ?? [])
      .map((c: { index: number }) => c.index);
    assert.deepEqual(order, [0, 1, 0, 1, 0, 1, 0, 1]);
  });
});

Deno.test("interleaved or all-0 parallel tool calls reach @anthropic-ai/sdk in strict order, each with its whole input", async () => {
  await withDialectGateway(async ({ gw }) => {
    const tools = [WEATHER, TIME].map(({ parameters, ...t }) => ({ ...t, input_schema: parameters }));
    for (const how of [INTERLEAVE, SAME_INDEX]) {
      const params = { ...ask("qwen3-vllm", how), tools };
      const events: AnthropicEvent[] = [];
      const stream = anthropic(gw.url).messages.stream(params);
      stream.on("streamEvent", (e) => void events.push(e));
      const msg = await stream.finalMessage();
      assert.equal(msg.stop_reason, "tool_use", how);
      assert.deepEqual(
        msg.content.map((b) => b.type === "tool_use" ? [b.id, b.name, b.input] : b.type),
        EXPECTED_CALLS,
        how,
      );
      assertAnthropicOrder(events);

      const checked = assertAnthropicOrder(await (await rawMessages(gw.url, params)).text());
      assert.deepEqual(checked.blocks.map((b) => [b.id, b.name, JSON.parse(b.text)]), EXPECTED_CALLS, how);
    }
  });
});

Deno.test("interleaved or all-0 parallel tool calls reach the openai client's responses.stream() with their whole arguments", async () => {
  await withDialectGateway(async ({ gw }) => {
    for (const how of [INTERLEAVE, SAME_INDEX]) {
      const final = await openai(gw.url).responses.stream({
        model: "qwen3-vllm",
        input: how,
        tools: [WEATHER, TIME].map((f) => ({ type: "function" as const, strict: true, ...f })),
      }).finalResponse();
      assert.equal(final.status, "completed", how);
      assert.deepEqual(
        final.output.map((o) =>
          o.type === "function_call" ? [o.call_id, o.name, JSON.parse(o.arguments)] : o.type
        ),
        EXPECTED_CALLS,
        how,
      );
    }
  });
});
