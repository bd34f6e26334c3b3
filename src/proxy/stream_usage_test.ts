import assert from "node:assert/strict";
import { ADAPTER_NAMES, getAdapter } from "../adapters/mod.ts";
import { MAX_PARTIAL_LINE } from "../adapters/line_stream.ts";
import {
  containsUsage,
  needsUsageOption,
  stripUsageEvents,
  usageStripper,
  withUsageOption,
} from "./stream_usage.ts";

Deno.test("withUsageOption() asks for usage only for streams that did not, keeping their other options", () => {
  assert.deepEqual(withUsageOption({ model: "m", stream: true, stream_options: { x: 1 } })?.stream_options, {
    x: 1,
    include_usage: true,
  });
  for (
    const value of [
      { model: "m", stream: true, stream_options: { include_usage: true } },
      { model: "m", stream: false },
      { model: "m", stream: true, stream_options: "odd" },
      { model: "m", stream: true, stream_options: [1] },
    ]
  ) {
    assert.equal(withUsageOption(value), undefined, JSON.stringify(value));
    assert.equal(needsUsageOption(value), false, JSON.stringify(value));
  }
  assert.equal(needsUsageOption({ model: "m", stream: true }), true);
  // `null` is "not set" (a probe saw such streams go uncounted).
  const unset = { model: "m", stream: true, stream_options: null };
  assert.equal(needsUsageOption(unset), true);
  assert.deepEqual(withUsageOption(unset)?.stream_options, { include_usage: true });
});

Deno.test("the adapters that accept stream_options say so themselves: OpenAI-compatible chat servers only", () => {
  const accepting = ADAPTER_NAMES.filter((n) => getAdapter(n).acceptsStreamOptions === true);
  assert.deepEqual(accepting, ["openai", "normal", "ollama", "vllm", "llamacpp", "triton"]);
});

Deno.test("stripUsageEvents() drops only the usage-only event, even when events are split across chunks", async () => {
  const events = [
    'data: {"choices":[{"delta":{"content":"a"}}]}\n\n',
    'data: {"id":"x","choices": [ ],"usage":{"prompt_tokens":3,"completion_tokens":4}}\n\n',
    "data: [DONE]\n\n",
  ].join("");
  const parts = [events.slice(0, 17), events.slice(17, 70), events.slice(70)];
  const src = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(new TextEncoder().encode(p));
      c.close();
    },
  });
  const out = await new Response(src.pipeThrough(stripUsageEvents())).text();
  assert.equal(out, 'data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: [DONE]\n\n');
});

Deno.test("stripUsageEvents() keeps a content chunk that also carries usage, and flushes an unterminated tail", async () => {
  const text = 'data: {"choices":[{"delta":{}}],"usage":{"prompt_tokens":1}}\n\ndata: partial';
  const out = await new Response(new Response(text).body!.pipeThrough(stripUsageEvents())).text();
  assert.equal(out, text);
});

Deno.test('containsUsage() finds "usage" exactly where a decode-and-search does', () => {
  const pieces = ['"usage"', '"usag', 'e"', "usage", '"', "g", "u", "sage", '{"a":1}', "x", "\n\n", "é"];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let n = 0; n < 2000; n++) {
    let text = "";
    const count = Math.floor(next() * 8);
    for (let i = 0; i < count; i++) text += pieces[Math.floor(next() * pieces.length)];
    const bytes = new TextEncoder().encode(text);
    assert.equal(containsUsage(bytes), text.includes('"usage"'), JSON.stringify(text));
  }
});

Deno.test("usageStripper() reads CRLF events (sse-starlette's default) one by one and strips their usage event", () => {
  const strip = usageStripper();
  const push = (s: string) => new TextDecoder().decode(strip.push(new TextEncoder().encode(s)));
  const chunk = 'data: {"choices":[{"delta":{"content":"hi"}}]}\r\n\r\n';
  assert.equal(push(chunk), chunk, "a whole event goes at once");
  assert.equal(push('data: {"choices":[],"usage":{"prompt_tokens":1}}\r\n\r\ndata: [DO'), "");
  assert.equal(push("NE]\r\n\r\n"), "data: [DONE]\r\n\r\n");
  assert.equal(strip.end(), undefined);
});

Deno.test("usageStripper() passes an event longer than MAX_PARTIAL_LINE on as it is instead of holding it", () => {
  const strip = usageStripper();
  const x = new TextEncoder().encode("x".repeat(1024 * 1024));
  let passed = 0;
  for (let i = 0; i <= MAX_PARTIAL_LINE / x.length; i++) passed += strip.push(x)?.byteLength ?? 0;
  assert.equal(passed, (MAX_PARTIAL_LINE / x.length + 1) * x.length);
  assert.equal(strip.end(), undefined, "nothing was held back");
});

Deno.test("usageStripper() after letting an over-long event through keeps a character split across chunks whole", () => {
  const strip = usageStripper();
  const enc = new TextEncoder();
  const e = enc.encode("é"); // two bytes, split between the two chunks below
  const big = enc.encode(`data: {"a":"${"x".repeat(MAX_PARTIAL_LINE)}`);
  const chunks = [
    big,
    Uint8Array.of(...enc.encode("xx"), e[0]),
    Uint8Array.of(e[1], ...enc.encode('"}\n\n')),
    enc.encode('data: {"b":2}\n\n'),
  ];
  const out = [...chunks.map((c) => strip.push(c)), strip.end()].filter((c) => c !== undefined);
  assert.deepEqual(joined(out), joined(chunks), "every byte as it came");
});

function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.byteLength), 0);
  return out;
}
