/**
 * The real `@anthropic-ai/sdk` reads what the Anthropic dialect writes: a loopback server answers
 * as the gateway will (SDK request → parseRequest → an OpenAI fixture → toResponse or the stream
 * translator, delivered in 7-byte pieces), and the SDK's own `MessageStream` accumulator, the
 * strictest reader of Anthropic's event sequence, must rebuild the message.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { answerAs, lastSaid, loopback, PARALLEL_CALLS, SCENARIOS } from "./_testing.ts";
import { anthropicDialect as dialect } from "./anthropic.ts";

const seen: Record<string, unknown>[] = [];

function serve() {
  return loopback((req) =>
    answerAs(dialect, req, (body) => {
      seen.push(body);
      return lastSaid(body, SCENARIOS);
    })
  );
}

function rateLimited() {
  return loopback(() => Response.json(dialect.errorBody(429, "Slow down."), { status: 429 }));
}

function client(url: string): Anthropic {
  return new Anthropic({ baseURL: url, apiKey: "test", maxRetries: 0 });
}

const ask = (content: string) => ({
  model: "claude-sonnet-4-5",
  max_tokens: 64,
  messages: [{ role: "user" as const, content }],
});

Deno.test("@anthropic-ai/sdk messages.create() reads the translated message", async () => {
  const s = serve();
  try {
    const msg = await client(s.url).messages.create(ask("text"));
    assert.deepEqual(msg.content, [{ type: "text", text: "Hello 世界 🎉" }]);
    assert.equal(msg.stop_reason, "end_turn");
    assert.deepEqual(msg.usage, { input_tokens: 12, output_tokens: 6 });
    assert.equal(seen.at(-1)?.max_tokens, 64);
  } finally {
    await s.close();
  }
});

Deno.test("@anthropic-ai/sdk messages.stream() rebuilds streamed text, stop reason and usage", async () => {
  const s = serve();
  try {
    const stream = client(s.url).messages.stream(ask("text"));
    let text = "";
    stream.on("text", (delta) => text += delta);
    const msg = await stream.finalMessage();
    assert.equal(text, "Hello 世界 🎉");
    assert.deepEqual(msg.content, [{ type: "text", text: "Hello 世界 🎉" }]);
    assert.equal(msg.stop_reason, "end_turn");
    assert.equal(msg.usage.input_tokens, 12);
    assert.equal(msg.usage.output_tokens, 6);
  } finally {
    await s.close();
  }
});

Deno.test("@anthropic-ai/sdk messages.stream() rebuilds two tool calls from input_json_delta", async () => {
  const s = serve();
  try {
    const msg = await client(s.url).messages.stream(ask("tools")).finalMessage();
    assert.equal(msg.stop_reason, "tool_use");
    const tools = msg.content.filter((b) => b.type === "tool_use");
    assert.deepEqual(tools.map((b) => [b.id, b.name, b.input]), [
      ["call_weather1", "get_weather", { city: "Paris" }],
      ["call_time2", "get_time", { tz: "Europe/Paris" }],
    ]);
    assert.deepEqual(msg.content[0], { type: "text", text: "Let me check." });
  } finally {
    await s.close();
  }
});

Deno.test("@anthropic-ai/sdk messages.stream() rebuilds both parallel calls however the backend streams them", async () => {
  const s = serve();
  try {
    // Interleaved pieces; every call numbered 0 (Ollama); a line of text while the first is unfinished.
    for (
      const [scenario, text] of [["tools_interleaved", []], ["tools_same_index", []], ["tools_text_between", [
        "\n",
      ]]]
    ) {
      const msg = await client(s.url).messages.stream(ask(scenario as string)).finalMessage();
      const tools = msg.content.filter((b) => b.type === "tool_use");
      assert.deepEqual(tools.map((b) => [b.id, b.name, b.input]), PARALLEL_CALLS, scenario as string);
      const texts = msg.content.flatMap((b) => b.type === "text" ? [b.text] : []);
      assert.deepEqual(texts, text, `${scenario}: the text, after the calls`);
    }
  } finally {
    await s.close();
  }
});

Deno.test("@anthropic-ai/sdk messages.stream() reports max_tokens and rejects on a mid-stream error", async () => {
  const s = serve();
  try {
    const msg = await client(s.url).messages.stream(ask("length")).finalMessage();
    assert.equal(msg.stop_reason, "max_tokens");
    await assert.rejects(
      client(s.url).messages.stream(ask("error")).finalMessage(),
      (err: Error) => err instanceof Anthropic.APIError && /broke after its first chunk/.test(err.message),
    );
  } finally {
    await s.close();
  }
});

Deno.test("@anthropic-ai/sdk gets Anthropic-shaped errors: 429 and a refused server tool", async () => {
  const s = serve();
  try {
    const limited = rateLimited();
    await assert.rejects(
      client(limited.url).messages.create(ask("text")).finally(limited.close),
      (err: Error) => {
        assert(err instanceof Anthropic.RateLimitError);
        assert.equal((err.error as { error: { type: string } }).error.type, "rate_limit_error");
        return true;
      },
    );
    const withServerTool = {
      ...ask("text"),
      tools: [{ type: "web_search_20250305" as const, name: "web_search" as const }],
    };
    await assert.rejects(client(s.url).messages.create(withServerTool), (err: Error) => {
      assert(err instanceof Anthropic.BadRequestError);
      assert.match(err.message, /server tools run on Anthropic's platform/);
      return true;
    });
  } finally {
    await s.close();
  }
});

Deno.test("@anthropic-ai/sdk messages.stream() with thinking enabled rebuilds a thinking block before the text", async () => {
  const s = serve();
  try {
    const params = { ...ask("reasoning"), thinking: { type: "enabled" as const, budget_tokens: 1024 } };
    const stream = client(s.url).messages.stream(params);
    let thinking = "";
    stream.on("thinking", (delta) => thinking += delta);
    const msg = await stream.finalMessage();
    assert.equal(thinking, "The user greets me.");
    assert.deepEqual(msg.content.map((b) => b.type), ["thinking", "text"]);
    assert.equal(msg.content[1].type === "text" && msg.content[1].text, "Hello!");
    const plain = await client(s.url).messages.stream(ask("reasoning")).finalMessage();
    assert.deepEqual(plain.content.map((b) => b.type), ["text"], "no thinking block unless asked for");
  } finally {
    await s.close();
  }
});
