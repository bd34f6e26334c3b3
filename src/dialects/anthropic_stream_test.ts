/**
 * The Anthropic stream keeps the protocol's order in every scenario (`_anthropic_order.ts`, stricter
 * than the SDK): blocks one at a time, every delta to the open block. Parallel tool calls whose
 * argument pieces interleave come out one block after the other with their whole input, while a
 * call that follows a finished one still streams live.
 */

import assert from "node:assert/strict";
import { assertAnthropicOrder, type CheckedStream } from "./_anthropic_order.ts";
import { fixtureText, runSplit, sseEvents } from "./_testing.ts";
import type { AnthropicCtx } from "./anthropic_request.ts";
import { createAnthropicStream } from "./anthropic_stream.ts";
import { MAX_HELD } from "./chat_stream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CTX: AnthropicCtx = { id: "msg_1", model: "m", stopSequences: [], thinking: false };

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** A tool-call delta: the first one of a call carries its id and name. */
const call = (index: number, args: string, first?: { id?: string; name: string }) =>
  chunk({
    tool_calls: [{
      index,
      ...(first?.id ? { id: first.id, type: "function" } : {}),
      function: { ...(first ? { name: first.name } : {}), arguments: args },
    }],
  });

const END = chunk({}, "tool_calls") +
  'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n' +
  "data: [DONE]\n\n";

/** The translation of `text`, checked for the protocol's order. */
function translate(text: string, ctx = CTX, size = Infinity): CheckedStream & { out: string } {
  const out = runSplit(createAnthropicStream(ctx), text, size);
  return { ...assertAnthropicOrder(out), out };
}

/** The output after each upstream event, pushed one at a time. */
function eventByEvent(text: string): string[] {
  const t = createAnthropicStream(CTX);
  return sseEvents(text).map((e) => decoder.decode(t.push(encoder.encode(e)) ?? new Uint8Array()));
}

/** The position of the upstream event that carries `args` for a tool call. */
const eventWith = (text: string, args: string) =>
  sseEvents(text).findIndex((e) =>
    e.startsWith("data: {") &&
    JSON.parse(e.slice(6)).choices[0]?.delta?.tool_calls?.[0]?.function?.arguments === args
  );

/** `[id, name, input, deltas]` of each tool block. */
const toolsOf = (s: CheckedStream) =>
  s.blocks.filter((b) => b.type === "tool_use").map((
    b,
  ) => [b.id, b.name, JSON.parse(b.text || "{}"), b.deltas]);

const FIXTURES = [
  "stream_text",
  "stream_tools",
  "stream_tools_interleaved",
  "stream_error",
  "stream_length",
  "stream_reasoning",
];

Deno.test("every Anthropic stream scenario keeps the protocol's order, however cut or ended", () => {
  for (const name of FIXTURES) {
    const text = fixtureText(`openai/${name}.sse`);
    for (const thinking of [false, true]) {
      const ctx = { ...CTX, thinking };
      for (const size of [Infinity, 1, 7]) translate(text, ctx, size);
      // Every prefix, ended there (a truncation) or broken there (a failed connection).
      const events = sseEvents(text);
      for (let k = 0; k <= events.length; k++) {
        const prefix = events.slice(0, k).join("");
        const what = `${name} cut after ${k} events (thinking ${thinking})`;
        assert.doesNotThrow(() => translate(prefix, ctx), what);
        const t = createAnthropicStream(ctx);
        const head = decoder.decode(t.push(encoder.encode(prefix)) ?? new Uint8Array());
        const tail = decoder.decode(t.fail("connection reset") ?? new Uint8Array());
        assert.doesNotThrow(() => assertAnthropicOrder(head + tail), `${what}, then broken`);
      }
    }
  }
  const noUsage = sseEvents(fixtureText("openai/stream_tools_interleaved.sse"))
    .filter((e) => !e.includes('"usage"')).join("");
  translate(noUsage);
});

Deno.test("interleaved parallel tool calls come out one block after the other, each with its whole input", () => {
  const s = translate(fixtureText("openai/stream_tools_interleaved.sse"));
  assert.deepEqual(toolsOf(s).map(([id, name, input]) => [id, name, input]), [
    ["call_weather1", "get_weather", { city: "Paris" }],
    ["call_time2", "get_time", { tz: "Europe/Paris" }],
  ]);
  assert.equal(s.stop?.stop_reason, "tool_use");
  // The first call streamed live; the second waited for it, then sent its kept piece and went on live.
  assert.deepEqual(s.blocks.map((b) => b.deltas), [2, 2]);
});

Deno.test("a call that begins after the open call's arguments are complete streams its pieces live", () => {
  const text = call(0, "", { id: "c0", name: "a" }) + call(0, '{"x":') + call(0, "1}") +
    call(1, "", { id: "c1", name: "b" }) + call(1, '{"y":') + call(1, '"two"') + call(1, "}") + END;
  const s = translate(text);
  assert.deepEqual(toolsOf(s), [["c0", "a", { x: 1 }, 2], ["c1", "b", { y: "two" }, 3]]);
  const outs = eventByEvent(text);
  assert.match(
    outs[eventWith(text, '{"y":')],
    /"index":1,"delta":\{"type":"input_json_delta","partial_json":"\{\\"y\\":"/,
  );
});

Deno.test("waiting calls start in the order they began once the open call completes; the last goes on live", () => {
  const text = call(0, "", { id: "c0", name: "a" }) + call(1, '{"b":', { id: "c1", name: "b" }) +
    call(0, '{"a":"}{') + call(2, '{"c":', { name: "c" }) + call(1, "[1]}") + call(2, "3") +
    call(0, '"}') + call(2, "}") + END;
  const outs = eventByEvent(text);
  const s = translate(text);
  assert.deepEqual(toolsOf(s), [
    ["c0", "a", { a: "}{" }, 2],
    ["c1", "b", { b: [1] }, 1],
    ["toolu_msg_1_2", "c", { c: 3 }, 2],
  ]);
  // c0's last piece releases c1 (complete: started and stopped) and c2 (incomplete: stays open).
  const release = outs[eventWith(text, '"}')];
  assert.deepEqual(release.match(/^event: \w+/gm), [
    "event: content_block_delta",
    "event: content_block_stop",
    "event: content_block_start",
    "event: content_block_delta",
    "event: content_block_stop",
    "event: content_block_start",
    "event: content_block_delta",
  ]);
  assert.match(release, /"partial_json":"\{\\"c\\":3"/, "c2's kept pieces in one delta");
  assert.match(outs.at(-4)!, /"index":2,.*"partial_json":"}"/, "c2's last piece is out at once");
});

Deno.test("a call whose arguments never complete holds the next one until the answer ends", () => {
  const s = translate(
    call(0, "", { id: "c0", name: "now" }) + call(1, '{"q":1}', { id: "c1", name: "f" }) + END,
  );
  assert.deepEqual(toolsOf(s), [["c0", "now", {}, 0], ["c1", "f", { q: 1 }, 1]]);
});

Deno.test("text that arrives while a call's arguments are unfinished waits for them; the answer loses nothing", () => {
  // A model emits "\n" between parallel calls while the first one's arguments are still coming.
  const text = call(0, '{"city":', { id: "c0", name: "weather" }) +
    call(1, '{"tz":"X"}', { id: "c1", name: "time" }) +
    chunk({ content: "\n" }) + call(0, '"Paris"}') + chunk({ content: "Done." }) + END;
  const s = translate(text);
  assert.equal(s.error, undefined);
  assert.deepEqual(s.blocks.map((b) => [b.type, b.type === "tool_use" ? JSON.parse(b.text) : b.text]), [
    ["tool_use", { city: "Paris" }],
    ["tool_use", { tz: "X" }],
    ["text", "\nDone."],
  ]);
  // Until c0's arguments complete nothing but its own pieces goes out.
  const outs = eventByEvent(text);
  assert.equal(outs[2], "", "the text waits");
  assert.match(outs[3], /"partial_json":"\\"Paris\\"}"[\s\S]*"name":"time"[\s\S]*"text_delta","text":"\\n"/);
});

Deno.test("text while a call is unfinished comes out at the end when its arguments never complete", () => {
  const s = translate(call(0, '{"a":', { id: "c0", name: "a" }) + chunk({ content: "Hi" }) + END);
  assert.deepEqual(s.blocks.map((b) => [b.type, b.text]), [["tool_use", '{"a":'], ["text", "Hi"]]);
});

Deno.test("a piece for a call whose arguments were already complete ends the stream with the error event", () => {
  const head = call(0, '{"a":1}', { id: "c0", name: "a" }) + chunk({ content: "Done." });
  const s = translate(head + call(0, " \n") + END);
  assert.deepEqual(s.blocks.map((b) => [b.type, b.text]), [["tool_use", '{"a":1}'], ["text", "Done."]]);
  const late = translate(head + call(0, ',"b":2}') + END);
  assert.match(
    String(late.error?.message),
    /arguments for tool call 0 after they were a complete JSON value/,
  );
});

Deno.test("an answer cut by its token limit in the middle of a call stops as max_tokens, not tool_use", () => {
  const s = translate(
    call(0, '{"path":"a.', { id: "c0", name: "read" }) + chunk({}, "length") +
      'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n' +
      "data: [DONE]\n\n",
  );
  assert.equal(s.stop?.stop_reason, "max_tokens");
  assert.equal(toolsOf(translate(call(0, '{"a":1}', { id: "c0", name: "f" }) + END))[0][2].a, 1);
  assert.equal(translate(call(0, '{"a":1}', { id: "c0", name: "f" }) + END).stop?.stop_reason, "tool_use");
});

Deno.test("argument pieces after the finish reason still reach their call's block", () => {
  const s = translate(
    call(0, '{"a":', { id: "c0", name: "f" }) + chunk({}, "tool_calls") + call(0, "1}") +
      'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n' +
      "data: [DONE]\n\n",
  );
  assert.equal(s.error, undefined);
  assert.deepEqual(toolsOf(s), [["c0", "f", { a: 1 }, 2]]);
});

Deno.test("more than MAX_HELD of text behind an unfinished call goes out, ending that call's block", () => {
  const piece = "x".repeat(64 * 1024);
  const n = Math.ceil(MAX_HELD / piece.length) + 1;
  const head = call(0, '{"a":', { id: "c0", name: "f" }) + chunk({ content: piece }).repeat(n);
  const outs = eventByEvent(head + END);
  // Held until the cap, then all of it at once; the rest streams as it comes.
  assert.deepEqual(outs.slice(1, n - 1).filter((o) => o !== ""), []);
  assert.match(outs[n], /content_block_stop[\s\S]*"text_delta"/);
  const s = translate(head + END);
  assert.deepEqual(s.blocks.map((b) => [b.type, b.text.length]), [["tool_use", 5], [
    "text",
    n * piece.length,
  ]]);
  const late = translate(head + call(0, "1}") + END);
  assert.match(String(late.error?.message), /after its block had to end \(over 1 MiB/);
});

Deno.test("a stream cut while text waits behind an unfinished call sends the text, then the error event", () => {
  const s = translate(call(0, '{"x":', { id: "c0", name: "f" }) + chunk({ content: "Hello" }));
  assert.deepEqual(s.blocks.map((b) => [b.type, b.text]), [["tool_use", '{"x":'], ["text", "Hello"]]);
  assert.ok(s.error, "then the error event");
});
