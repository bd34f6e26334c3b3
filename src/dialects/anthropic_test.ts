/** Anthropic Messages specifics beyond the shared contract: each mapping and each refusal. */
import assert from "node:assert/strict";
import { toAnthropicMessage } from "./anthropic_response.ts";
import { UpstreamError } from "../errors.ts";
import { requestChecks } from "./_testing.ts";
import { anthropicDialect as dialect, countTokens } from "./anthropic.ts";
import { IMAGE_TOKENS, MESSAGE_TOKENS } from "./anthropic_count.ts";
import { anthropicErrorType } from "./anthropic_response.ts";

const enc = new TextEncoder();
const { parse, body, refused } = requestChecks(dialect, {
  model: "m",
  max_tokens: 10,
  messages: [{ role: "user", content: "hi" }],
});

Deno.test("anthropic tool_choice auto/any/tool/none map to auto/required/function/none", () => {
  assert.equal(body({ tool_choice: { type: "auto" } }).tool_choice, "auto");
  assert.equal(body({ tool_choice: { type: "any" } }).tool_choice, "required");
  assert.equal(body({ tool_choice: { type: "none" } }).tool_choice, "none");
  assert.deepEqual(body({ tool_choice: { type: "tool", name: "f" } }).tool_choice, {
    type: "function",
    function: { name: "f" },
  });
  refused({ tool_choice: { type: "tool" } }, /tool_choice/);
});

Deno.test("anthropic max_tokens is required and sampling fields are range-checked", () => {
  refused({ max_tokens: undefined }, /"max_tokens" must be an integer >= 1/);
  refused({ temperature: 1.5 }, /"temperature" must be a number from 0 to 1/);
  refused({ top_k: 0 }, /"top_k"/);
  refused({ stream: "yes" }, /"stream" must be a boolean/);
  const b = body({ top_k: 5, metadata: { user_id: "u1" }, stream: false });
  assert.equal(b.top_k, 5);
  assert.equal(b.user, "u1");
  assert.equal(b.stream, false);
  assert.equal(b.stream_options, undefined, "usage is only asked for when streaming");
});

Deno.test("anthropic platform-only fields are refused, routing hints accepted and ignored", () => {
  refused({ container: "c1" }, /code-execution platform/);
  refused({ mcp_servers: [{ url: "x" }] }, /MCP/);
  const b = body({ service_tier: "auto", cache_control: { type: "ephemeral" }, inference_geo: "us" });
  assert.equal(b.service_tier, undefined);
  assert.equal(b.cache_control, undefined);
});

Deno.test("anthropic output_config maps format to response_format and effort to reasoning_effort", () => {
  const schema = { type: "object", properties: { a: { type: "string" } } };
  const b = body({ output_config: { effort: "max", format: { type: "json_schema", schema } } });
  assert.equal(b.reasoning_effort, "high");
  assert.deepEqual(b.response_format, {
    type: "json_schema",
    json_schema: { name: "output", schema, strict: true },
  });
  refused({ output_config: { task_budget: 1 } }, /output_config\.task_budget/);
});

Deno.test("anthropic content: system role, documents and tool_result images are refused clearly", () => {
  refused({ messages: [{ role: "system", content: "x" }] }, /system prompt goes in "system"/);
  refused(
    { messages: [{ role: "user", content: [{ type: "document", source: {} }] }] },
    /"document" are not supported/,
  );
  refused({
    messages: [{
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "image", source: {} }] }],
    }],
  }, /"image" are not supported/);
  refused({ messages: [] }, /non-empty array/);
  refused({ system: [{ type: "image" }] }, /system\[0\] must be a text block/);
  refused({ tools: [{ name: "f" }] }, /input_schema/);
});

Deno.test("anthropic tool_result with is_error is marked for the model", () => {
  const b = body({
    messages: [
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: {} }] },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: "t1", content: "boom", is_error: true }],
      },
    ],
  });
  assert.deepEqual((b.messages as unknown[])[1], {
    role: "tool",
    tool_call_id: "t1",
    content: "[tool error] boom",
  });
  assert.deepEqual((b.messages as { content: unknown }[])[0].content, null);
});

Deno.test("anthropic toResponse: vLLM's matched stop string becomes stop_sequence", () => {
  const p = parse({ stop_sequences: ["END"] });
  assert(p.ok);
  const msg = dialect.toResponse({
    choices: [{ message: { content: "x" }, finish_reason: "stop", stop_reason: "END" }],
  }, p.ctx) as Record<string, unknown>;
  assert.equal(msg.stop_reason, "stop_sequence");
  assert.equal(msg.stop_sequence, "END");
  const refusal = dialect.toResponse({
    choices: [{ message: { content: "" }, finish_reason: "content_filter" }],
  }, p.ctx);
  assert.equal((refusal as { stop_reason: string }).stop_reason, "refusal");
});

Deno.test("anthropic toResponse: malformed upstream answers and tool arguments are upstream errors", () => {
  const p = parse({});
  assert(p.ok);
  assert.throws(() => dialect.toResponse({ choices: [] }, p.ctx), UpstreamError);
  assert.throws(
    () =>
      dialect.toResponse({
        choices: [{
          message: { tool_calls: [{ id: "c", function: { name: "f", arguments: "{oops" } }] },
          finish_reason: "tool_calls",
        }],
      }, p.ctx),
    (e: Error) => e instanceof UpstreamError && /not a JSON object: \{oops/.test(e.message),
  );
});

Deno.test("anthropic error types follow Anthropic's status table", () => {
  const table: [number, string][] = [
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [413, "request_too_large"],
    [415, "invalid_request_error"],
    [429, "rate_limit_error"],
    [500, "api_error"],
    [502, "api_error"],
    [503, "overloaded_error"],
    [504, "timeout_error"],
    [529, "overloaded_error"],
  ];
  for (const [status, type] of table) assert.equal(anthropicErrorType(status), type, String(status));
});

Deno.test("count_tokens estimates text, images and tools, and refuses bad input in Anthropic's terms", () => {
  const text = "x".repeat(40);
  const out = countTokens(enc.encode(JSON.stringify({
    model: "m",
    system: "y".repeat(8),
    messages: [{
      role: "user",
      content: [{ type: "text", text }, { type: "image", source: { type: "url", url: "https://e/x.png" } }],
    }],
  })));
  assert(out.ok);
  assert.equal(out.body.input_tokens, 2 * MESSAGE_TOKENS + 2 + 10 + IMAGE_TOKENS);
  const withTools = countTokens(enc.encode(JSON.stringify({
    model: "m",
    messages: [{ role: "user", content: "hi" }],
    tools: [{ name: "f", input_schema: { type: "object" } }],
  })));
  assert(withTools.ok && withTools.body.input_tokens > MESSAGE_TOKENS + 1);
  const bad = countTokens(enc.encode(JSON.stringify({ model: "m", messages: "hi" })));
  assert(!bad.ok && bad.status === 400 && /"messages"/.test(bad.message));
  const unknown = countTokens(enc.encode(JSON.stringify({ model: "m", messages: [], max_tokens: 5 })));
  assert(!unknown.ok && /"max_tokens" is not supported/.test(unknown.message));
});

Deno.test("anthropic tools must be an array; an empty one sends no tools, null counts as unset", () => {
  refused({ tools: { name: "f" } }, /"tools" must be an array/, "tools");
  assert.equal(body({ tools: [] }).tools, undefined);
  assert.equal(body({ tools: null, stream: null }).stream, false);
});

Deno.test("a whole answer cut by its token limit with a tool call in it stops as max_tokens, as the stream does", () => {
  const ctx = { id: "msg_1", model: "m", stopSequences: [], thinking: false };
  const answer = (finish: string) => ({
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        tool_calls: [{ id: "c0", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
      },
      finish_reason: finish,
    }],
  });
  assert.equal(toAnthropicMessage(answer("length"), ctx).stop_reason, "max_tokens");
  assert.equal(toAnthropicMessage(answer("tool_calls"), ctx).stop_reason, "tool_use");
});
