/** Ollama specifics beyond the shared contract: options, tool names, durations, listings. */
import assert from "node:assert/strict";
import { createOllamaStream } from "./ollama_stream.ts";
import { runSplit, TEST_ENV } from "./_testing.ts";
import {
  ollamaChatDialect,
  ollamaEmbedDialect,
  ollamaGenerateDialect,
  ollamaPs,
  ollamaTags,
} from "./ollama.ts";
import type { Dialect, DialectEnv } from "./types.ts";

const enc = new TextEncoder();
const chatBase = { model: "m", messages: [{ role: "user", content: "hi" }] };

function parse<C>(d: Dialect<C>, value: Record<string, unknown>, env: DialectEnv = TEST_ENV) {
  return d.parseRequest(enc.encode(JSON.stringify(value)), env);
}

function refused<C>(d: Dialect<C>, value: Record<string, unknown>, message: RegExp): void {
  const p = parse(d, value);
  assert(!p.ok, `expected a refusal for ${JSON.stringify(value)}`);
  assert.equal(p.status, 400);
  assert.match(p.message, message);
}

Deno.test("ollama options: sampling mapped, runner options ignored, others refused", () => {
  const p = parse(ollamaChatDialect, {
    ...chatBase,
    stream: false,
    options: { min_p: 0.1, num_predict: -1, num_ctx: 4096, num_gpu: 1, presence_penalty: 0.5 },
  });
  assert(p.ok);
  assert.equal(p.body.min_p, 0.1);
  assert.equal(p.body.presence_penalty, 0.5);
  assert.equal(p.body.max_tokens, undefined, "num_predict -1 means no limit");
  assert.equal(p.body.num_ctx, undefined);
  assert.equal(p.stream, false);
  refused(ollamaChatDialect, { ...chatBase, options: { repeat_penalty: 1.1 } }, /options\.repeat_penalty/);
  refused(ollamaChatDialect, { ...chatBase, format: 5 }, /"format"/);
  refused(ollamaChatDialect, { ...chatBase, stream: "no" }, /"stream" must be a boolean/);
});

Deno.test("ollama chat: a tool message finds its call by tool_name, or is refused", () => {
  const p = parse(ollamaChatDialect, {
    model: "m",
    messages: [
      {
        role: "assistant",
        content: "",
        tool_calls: [{ id: "c9", function: { name: "f", arguments: { a: 1 } } }],
      },
      { role: "tool", tool_name: "f", content: "ok" },
      { role: "tool", tool_call_id: "c9", content: "again" },
    ],
  });
  assert(p.ok);
  const messages = p.body.messages as Record<string, unknown>[];
  assert.equal(messages[1].tool_call_id, "c9");
  assert.equal(messages[2].tool_call_id, "c9");
  refused(
    ollamaChatDialect,
    { model: "m", messages: [{ role: "tool", content: "x" }] },
    /tool_call_id or the tool_name/,
  );
  refused(ollamaChatDialect, { model: "m", messages: [{ role: "robot", content: "x" }] }, /role of system/);
  refused(ollamaChatDialect, { ...chatBase, logprobs: true }, /log probabilities/);
  const think = parse(ollamaChatDialect, { ...chatBase, think: "high", keep_alive: "5m" });
  assert(think.ok && think.body.reasoning_effort === "high" && think.body.keep_alive === undefined);
});

Deno.test("ollama generate: empty prompt, suffix, template, context and raw are refused; defaults pass", () => {
  refused(ollamaGenerateDialect, { model: "m", prompt: "" }, /preloads a model/);
  refused(ollamaGenerateDialect, { model: "m", prompt: "a", suffix: "b" }, /fill-in-the-middle/);
  refused(ollamaGenerateDialect, { model: "m", prompt: "a", template: "{{.Prompt}}" }, /templates/);
  refused(ollamaGenerateDialect, { model: "m", prompt: "a", context: [1, 2] }, /context tokens/);
  refused(ollamaGenerateDialect, { model: "m", prompt: "a", raw: true }, /raw prompts/);
  assert(parse(ollamaGenerateDialect, { model: "m", prompt: "a", suffix: "", raw: false, context: [] }).ok);
});

Deno.test("ollama embed: input must be strings; dimensions checked", () => {
  refused(ollamaEmbedDialect, { model: "e", input: [1] }, /"input" must be a string/);
  refused(ollamaEmbedDialect, { model: "e", input: "x", dimensions: 0 }, /"dimensions"/);
  const p = parse(ollamaEmbedDialect, { model: "e", input: "x", truncate: false });
  assert(p.ok && !p.stream && p.route === "/v1/embeddings" && p.service === "embedding");
});

Deno.test("ollama durations are measured with the injected clock, in nanoseconds", () => {
  let now = 1_000;
  const env = { clock: () => now, randomId: () => "x" };
  const p = parse(ollamaChatDialect, chatBase, env);
  assert(p.ok);
  const t = p.ctx;
  const stream = ollamaChatDialect.streamTransformer(t);
  now = 1_200; // first token after 200 ms
  stream.push(enc.encode('data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\n'));
  now = 1_500;
  const tail = runSplit(
    stream,
    'data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\n\ndata: [DONE]\n\n',
  );
  const last = JSON.parse(tail.trim());
  assert.equal(last.done_reason, "length");
  assert.equal(last.total_duration, 500e6);
  assert.equal(last.prompt_eval_duration, 200e6);
  assert.equal(last.eval_duration, 300e6);
  assert.equal(last.created_at, new Date(1_500).toISOString());
});

Deno.test("ollama stream: reasoning arrives as thinking; bad tool arguments end with an error line", () => {
  const p = parse(ollamaGenerateDialect, { model: "m", prompt: "a" });
  assert(p.ok);
  const out = runSplit(
    ollamaGenerateDialect.streamTransformer(p.ctx),
    'data: {"choices":[{"index":0,"delta":{"reasoning_content":"hmm"},"finish_reason":null}]}\n\n' +
      'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{x"}}]},"finish_reason":"tool_calls"}]}\n\n',
  );
  const lines = out.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual([lines[0].response, lines[0].thinking], ["", "hmm"]);
  assert.match(lines[1].error, /not JSON/);
});

Deno.test("ollamaTags() and ollamaPs() use Ollama's field names and invent nothing", () => {
  const tags = ollamaTags([{ name: "qwen3:8b", family: "qwen3" }], 0) as {
    models: Record<string, unknown>[];
  };
  assert.deepEqual(Object.keys(tags.models[0]), [
    "name",
    "model",
    "modified_at",
    "size",
    "digest",
    "details",
  ]);
  assert.equal(tags.models[0].size, 0);
  assert.equal(tags.models[0].digest, "");
  const ps = ollamaPs([{ name: "m" }], 60_000) as { models: Record<string, unknown>[] };
  assert.equal(ps.models[0].expires_at, "1970-01-01T00:01:00.000Z");
  assert.equal(ps.models[0].size_vram, 0);
  assert.equal(ps.models[0].context_length, 0);
});

Deno.test("ollama chat: tools must be an array; stream null or absent streams", () => {
  refused(ollamaChatDialect, { ...chatBase, tools: "f" }, /"tools" must be an array/);
  const p = parse(ollamaChatDialect, { ...chatBase, tools: [], stream: null });
  assert(p.ok);
  assert.equal(p.body.tools, undefined);
  assert.equal(p.stream, true);
  assert.deepEqual(p.body.stream_options, { include_usage: true });
});

Deno.test("ollama stream: argument pieces after the finish reason still reach their call", () => {
  const t = createOllamaStream({ kind: "chat", model: "m", startedAt: 0, clock: () => 0 });
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const out = runSplit(
    t,
    chunk({ tool_calls: [{ index: 0, id: "a", function: { name: "f", arguments: '{"x"' } }] }) +
      chunk({}, "tool_calls") + chunk({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }) +
      'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}\n\ndata: [DONE]\n\n',
  );
  const lines = out.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.find((l) => l.error), undefined, out);
  assert.deepEqual(lines.flatMap((l) => l.message?.tool_calls ?? []).map((c) => c.function), [
    { index: 0, name: "f", arguments: { x: 1 } },
  ]);
});
