/** The OpenAI SSE reader under the translators: framing cases the fixtures do not cover. */
import assert from "node:assert/strict";
import { runSplit } from "./_testing.ts";
import { LINE_TOO_LONG, MAX_PARTIAL_LINE } from "../adapters/line_stream.ts";
import { createSseTranslator } from "./sse_reader.ts";

function recorder() {
  const calls: string[] = [];
  const t = createSseTranslator({
    chunk: (v) => (calls.push(`chunk ${JSON.stringify(v)}`), ""),
    done: () => (calls.push("done"), ""),
    error: (m) => (calls.push(`error ${m}`), ""),
    end: () => (calls.push("end"), ""),
  });
  return { t, calls };
}

Deno.test("createSseTranslator() joins multi-line data and reads data: without a space", () => {
  const { t, calls } = recorder();
  runSplit(t, 'data: {"a":\ndata: 1}\n\ndata:{"b":2}\n\n', 3);
  assert.deepEqual(calls, ['chunk {"a":1}', 'chunk {"b":2}', "end"]);
});

Deno.test("createSseTranslator() reads a last event that has no blank line before the end", () => {
  const { t, calls } = recorder();
  runSplit(t, 'data: {"a":1}');
  assert.deepEqual(calls, ['chunk {"a":1}', "end"]);
});

Deno.test("createSseTranslator() passes [DONE] once and skips comments, event and id lines", () => {
  const { t, calls } = recorder();
  runSplit(t, ': hi\nevent: x\nid: 1\ndata: {"a":1}\n\ndata: [DONE]\n\n');
  assert.deepEqual(calls, ['chunk {"a":1}', "done", "end"]);
});

Deno.test("createSseTranslator() turns vLLM's error object and broken JSON into one error call", () => {
  const a = recorder();
  runSplit(a.t, 'data: {"object":"error","message":"boom","code":500}\n\ndata: {"a":1}\n\n');
  assert.deepEqual(a.calls, ["error boom"]);
  assert.equal(a.t.failed?.(), "boom", "the translator says it failed the stream");
  const b = recorder();
  runSplit(b.t, "data: {\n\n");
  assert.deepEqual(b.calls, ["error The upstream sent a stream event that is not JSON."]);
  assert.equal(b.t.failed?.(), "The upstream sent a stream event that is not JSON.");
  const c = recorder();
  runSplit(c.t, 'data: {"a":1}\n\ndata: [DONE]\n\n');
  assert.equal(c.t.failed?.(), undefined, "a complete stream did not fail");
});

Deno.test("createSseTranslator() carries only the partial line between chunks", () => {
  const { t, calls } = recorder();
  const enc = new TextEncoder();
  assert.equal(t.push(enc.encode('data: {"a":')), undefined);
  assert.deepEqual(calls, []);
  t.push(enc.encode('"é"}\n\n'));
  assert.deepEqual(calls, ['chunk {"a":"é"}']);
});

Deno.test("createSseTranslator() fails once, and holds no more, when a line or an event's data never ends", () => {
  const x = new TextEncoder().encode("x".repeat(1024 * 1024));
  for (const start of ["data: ", 'data: {"a":\n']) {
    const { t, calls } = recorder();
    t.push(new TextEncoder().encode(start));
    // Line by line for the data case (each a `data:` line), one endless line otherwise.
    for (let i = 0; i <= MAX_PARTIAL_LINE / x.length && calls.length === 0; i++) {
      t.push(x);
      if (start !== "data: ") t.push(new TextEncoder().encode("\ndata: "));
    }
    assert.deepEqual(calls, [`error ${LINE_TOO_LONG}`], JSON.stringify(start));
    assert.equal(t.push(x), undefined, "closed: nothing more is read");
  }
});

Deno.test("createSseTranslator() skips an event whose data is empty (`data:` or `data: `), as browsers do", () => {
  const { t, calls } = recorder();
  runSplit(t, 'data:\n\ndata: \n\ndata: {"a":1}\n\n', 2);
  assert.deepEqual(calls, ['chunk {"a":1}', "end"]);
});
