/**
 * The real `openai` SDK reads what the Responses dialect writes: a loopback server answers as the
 * gateway will (SDK request → parseRequest → an OpenAI chat fixture → toResponse or the stream
 * translator, delivered in 7-byte pieces), and `responses.stream()`'s accumulator, which checks
 * item ids, output indexes and event order, must rebuild the response.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { answerAs, lastSaid, loopback, PARALLEL_CALLS, SCENARIOS } from "./_testing.ts";
import { responsesDialect as dialect } from "./responses.ts";

function serve() {
  return loopback((req) => answerAs(dialect, req, (body) => lastSaid(body, SCENARIOS)));
}

function client(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: "test", maxRetries: 0 });
}

Deno.test("openai responses.create() reads the translated response and its output_text", async () => {
  const s = serve();
  try {
    const res = await client(s.url).responses.create({ model: "qwen3-8b", input: "text" });
    assert.equal(res.output_text, "Hello 世界 🎉");
    assert.equal(res.status, "completed");
    assert.equal(res.usage?.total_tokens, 18);
  } finally {
    await s.close();
  }
});

Deno.test("openai responses.stream() rebuilds streamed text with sequence numbers in order", async () => {
  const s = serve();
  try {
    const stream = client(s.url).responses.stream({
      model: "qwen3-8b",
      input: "text",
      instructions: "be nice",
    });
    let text = "";
    const seqs: number[] = [];
    stream.on("response.output_text.delta", (e) => text += e.delta);
    stream.on("event", (e) => seqs.push(e.sequence_number));
    const res = await stream.finalResponse();
    assert.equal(text, "Hello 世界 🎉");
    assert.equal(res.output_text, "Hello 世界 🎉");
    assert.equal(res.instructions, "be nice");
    assert.deepEqual(seqs, seqs.map((_, i) => i));
    assert.equal(res.usage?.input_tokens, 12);
  } finally {
    await s.close();
  }
});

Deno.test("openai responses.stream() rebuilds function calls from argument deltas", async () => {
  const s = serve();
  try {
    const res = await client(s.url).responses.stream({
      model: "qwen3-8b",
      input: "tools",
      tools: [{ type: "function", name: "get_weather", parameters: { type: "object" }, strict: false }],
    }).finalResponse();
    const calls = res.output.filter((o) => o.type === "function_call");
    assert.deepEqual(calls.map((c) => [c.call_id, c.name, JSON.parse(c.arguments)]), [
      ["call_weather1", "get_weather", { city: "Paris" }],
      ["call_time2", "get_time", { tz: "Europe/Paris" }],
    ]);
    assert.equal(res.output_text, "Let me check.");
  } finally {
    await s.close();
  }
});

Deno.test("openai responses.stream() keeps both parallel calls however the backend streams them, each event on an open item", async () => {
  const s = serve();
  try {
    // Interleaved pieces; every call numbered 0 (Ollama); a line of text while the first is unfinished.
    for (
      const [scenario, text] of [["tools_interleaved", ""], ["tools_same_index", ""], [
        "tools_text_between",
        "\n",
      ]]
    ) {
      const stream = client(s.url).responses.stream({ model: "qwen3-8b", input: scenario });
      const closed = new Set<number>();
      const late: string[] = [];
      stream.on("response.function_call_arguments.delta", (e) => {
        if (closed.has(e.output_index)) late.push(e.delta);
      });
      stream.on("response.output_item.done", (e) => closed.add(e.output_index));
      const res = await stream.finalResponse();
      const calls = res.output.filter((o) => o.type === "function_call");
      assert.deepEqual(
        calls.map((c) => [c.call_id, c.name, JSON.parse(c.arguments)]),
        PARALLEL_CALLS,
        scenario,
      );
      assert.deepEqual(late, [], `${scenario}: no argument piece after its item's done event`);
      assert.equal(res.output_text, text, `${scenario}: the text, after the calls`);
    }
  } finally {
    await s.close();
  }
});

Deno.test("openai responses.stream() ends incomplete at max tokens and rejects on a mid-stream error", async () => {
  const s = serve();
  try {
    const res = await client(s.url).responses.stream({ model: "qwen3-8b", input: "length" }).finalResponse();
    assert.equal(res.status, "incomplete");
    assert.equal(res.incomplete_details?.reason, "max_output_tokens");
    await assert.rejects(
      client(s.url).responses.stream({ model: "qwen3-8b", input: "error" }).finalResponse(),
      (err: Error) => err instanceof OpenAI.APIError && /broke after its first chunk/.test(err.message),
    );
  } finally {
    await s.close();
  }
});

Deno.test("openai responses.create() with previous_response_id gets a clear 400", async () => {
  const s = serve();
  try {
    await assert.rejects(
      client(s.url).responses.create({ model: "qwen3-8b", input: "text", previous_response_id: "resp_1" }),
      (err: Error) => {
        assert(err instanceof OpenAI.BadRequestError);
        assert.match(err.message, /stateless.*send the whole conversation in input/);
        assert.equal(err.param, "previous_response_id");
        return true;
      },
    );
  } finally {
    await s.close();
  }
});

Deno.test("openai responses.stream() rebuilds a reasoning item before the message", async () => {
  const s = serve();
  try {
    const stream = client(s.url).responses.stream({ model: "qwen3-8b", input: "reasoning" });
    let reasoning = "";
    stream.on("response.reasoning_text.delta", (e) => reasoning += e.delta);
    const res = await stream.finalResponse();
    assert.equal(reasoning, "The user greets me.");
    assert.deepEqual(res.output.map((o) => o.type), ["reasoning", "message"]);
    assert.equal(res.output_text, "Hello!");
    assert.equal(res.usage?.output_tokens_details.reasoning_tokens, 6);
    const whole = await client(s.url).responses.create({ model: "qwen3-8b", input: "reasoning" });
    assert.deepEqual(whole.output.map((o) => o.type), ["reasoning", "message"]);
  } finally {
    await s.close();
  }
});
