/** OpenAI Responses specifics beyond the shared contract: input items, tools, format, refusals. */
import assert from "node:assert/strict";
import { fixtureJson, requestChecks, runSplit } from "./_testing.ts";
import { responsesDialect as dialect } from "./responses.ts";
import { createResponsesStream } from "./responses_stream.ts";
import { MAX_HELD } from "./chat_stream.ts";

const { parse, body, refused } = requestChecks(dialect, { model: "m", input: "hi" });

Deno.test("responses: a string input is one user message; developer messages become system", () => {
  assert.deepEqual(body({}).messages, [{ role: "user", content: "hi" }]);
  assert.deepEqual(
    body({ input: [{ role: "developer", content: "rules" }, { role: "user", content: "q" }] }).messages,
    [
      { role: "system", content: "rules" },
      { role: "user", content: "q" },
    ],
  );
});

Deno.test("responses: consecutive function_call items join one assistant message", () => {
  const messages = body({
    input: [
      { role: "user", content: "q" },
      { type: "function_call", call_id: "a", name: "f", arguments: "{}" },
      { type: "function_call", call_id: "b", name: "g", arguments: "{}" },
      { type: "function_call_output", call_id: "a", output: [{ type: "input_text", text: "1" }] },
      { type: "function_call_output", call_id: "b", output: "2" },
    ],
  }).messages as Record<string, unknown>[];
  assert.equal(messages.length, 4);
  assert.deepEqual((messages[1].tool_calls as { id: string }[]).map((c) => c.id), ["a", "b"]);
  assert.deepEqual(messages[2], { role: "tool", tool_call_id: "a", content: "1" });
});

Deno.test("responses: stateful and platform features are refused with the reason", () => {
  refused({ previous_response_id: "resp_1" }, /stateless/, "previous_response_id");
  refused({ conversation: "conv_1" }, /stateless/, "conversation");
  refused({ background: true }, /background/);
  refused({ input: [{ type: "item_reference", id: "msg_1" }] }, /item_reference needs stored responses/);
  refused({ input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] }, /"input_file"/);
  refused({ input: [{ role: "user", content: [{ type: "input_image", file_id: "f" }] }] }, /file_id/);
  refused({ tools: [{ type: "web_search" }] }, /only function tools/);
  refused({ tool_choice: { type: "file_search" } }, /tool_choice/);
  refused({ text: { format: { type: "json_schema", schema: {} } } }, /needs a "name"/);
  refused({ input: [] }, /non-empty array/);
  refused({ temperature: 3 }, /"temperature" must be a number from 0 to 2/);
});

Deno.test("responses: store, include and truncation are accepted; nothing is stored", () => {
  const b = body({
    store: true,
    include: ["reasoning.encrypted_content"],
    truncation: "auto",
    service_tier: "auto",
  });
  assert.equal(b.store, undefined);
  assert.equal(b.include, undefined);
});

Deno.test("responses: tools, tool_choice, json_object, max_output_tokens, reasoning effort and user", () => {
  const b = body({
    tools: [{ type: "function", name: "f", parameters: { type: "object" }, strict: true }],
    tool_choice: { type: "function", name: "f" },
    text: { format: { type: "json_object" }, verbosity: "low" },
    max_output_tokens: 99,
    reasoning: { effort: "low", summary: "auto" },
    safety_identifier: "hash-1",
    stream: true,
  });
  assert.deepEqual(b.tools, [{
    type: "function",
    function: { name: "f", parameters: { type: "object" }, strict: true },
  }]);
  assert.deepEqual(b.tool_choice, { type: "function", function: { name: "f" } });
  assert.deepEqual(b.response_format, { type: "json_object" });
  assert.equal(b.max_tokens, 99);
  assert.equal(b.reasoning_effort, "low");
  assert.equal(b.user, "hash-1");
  assert.deepEqual(b.stream_options, { include_usage: true });
});

Deno.test("responses: toResponse maps reasoning, content filter and cached tokens", () => {
  const p = parse({});
  assert(p.ok);
  const out = dialect.toResponse(fixtureJson("openai/chat_reasoning.json"), p.ctx) as Record<string, unknown>;
  assert.deepEqual((out.output as { type: string }[]).map((o) => o.type), ["reasoning", "message"]);
  assert.equal(
    (out.usage as { output_tokens_details: { reasoning_tokens: number } }).output_tokens_details
      .reasoning_tokens,
    6,
  );
  const filtered = dialect.toResponse({
    choices: [{ message: { content: "" }, finish_reason: "content_filter" }],
    usage: { prompt_tokens: 3, completion_tokens: 0, prompt_tokens_details: { cached_tokens: 2 } },
  }, p.ctx) as Record<string, unknown>;
  assert.equal(filtered.status, "incomplete");
  assert.deepEqual(filtered.incomplete_details, { reason: "content_filter" });
  assert.deepEqual((filtered.usage as { input_tokens_details: unknown }).input_tokens_details, {
    cached_tokens: 2,
  });
  assert.deepEqual(filtered.output, []);
});

Deno.test("responses: tools must be an array; stream must be a boolean, as in OpenAI's API", () => {
  refused({ tools: "f" }, /"tools" must be an array/, "tools");
  assert.equal(body({ tools: [] }).tools, undefined);
  assert.deepEqual(body({ stream: true }).stream_options, { include_usage: true });
  assert.equal(body({ stream: false }).stream, false);
  refused({ stream: "yes" }, /"stream" must be a boolean/, "stream");
});

Deno.test("responses stream: more than MAX_HELD of text behind an unfinished call goes out instead of growing", () => {
  const t = createResponsesStream({ id: "resp_1", model: "m", createdAt: 0, echo: {} });
  const sse = (delta: Record<string, unknown>) =>
    new TextEncoder().encode(
      `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`,
    );
  const decode = (b: Uint8Array | undefined) => new TextDecoder().decode(b ?? new Uint8Array());
  decode(t.push(sse({ tool_calls: [{ index: 0, id: "c0", function: { name: "f", arguments: '{"a":' } }] })));
  const piece = "x".repeat(64 * 1024);
  let out = "";
  let pushed = 0;
  while (!out.includes("response.output_text.delta")) {
    out = decode(t.push(sse({ content: piece })));
    pushed += piece.length;
    assert.ok(pushed <= MAX_HELD + piece.length, "released once past the cap");
  }
  assert.ok(pushed > MAX_HELD, "held until the cap");
  assert.match(
    out,
    /response\.function_call_arguments\.done[\s\S]*"arguments":"\{\\"a\\":"/,
    "the call ends there",
  );
  assert.equal(
    [...out.matchAll(/"response\.output_text\.delta".*?"delta":"(x+)"/g)].reduce(
      (n, m) => n + m[1].length,
      0,
    ),
    pushed,
    "every held piece goes out",
  );
});

Deno.test("responses stream: arguments after a whole JSON value end the stream with the error event; held text is sent first", () => {
  const run = (text: string) => {
    const out = runSplit(createResponsesStream({ id: "resp_1", model: "m", createdAt: 0, echo: {} }), text);
    return out.split("\n\n").filter((e) => e.startsWith("event: ")).map((e) =>
      JSON.parse(e.split("\ndata: ")[1])
    );
  };
  const sse = (delta: Record<string, unknown>) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
  // Two calls a backend numbers 0 without ids: the second would be glued to the first's arguments.
  const glued = run(
    sse({ tool_calls: [{ index: 0, function: { name: "f", arguments: '{"a":1}' } }] }) +
      sse({ tool_calls: [{ index: 0, function: { name: "g", arguments: '{"b":2}' } }] }),
  );
  assert.match(glued.at(-1).message, /arguments for tool call 0 after they were a complete JSON value/);
  // A stream cut while text waits behind an unfinished call: the text, then the error.
  const cut = run(
    sse({ tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: '{"x":' } }] }) +
      sse({ content: "Hello" }),
  );
  assert.deepEqual(cut.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta), ["Hello"]);
  assert.equal(cut.at(-1).type, "error");
});
