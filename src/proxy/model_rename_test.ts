import assert from "node:assert/strict";
import { MAX_PARTIAL_LINE } from "../adapters/line_stream.ts";
import { modelRename } from "./model_rename.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function run(chunks: string[], type = "text/event-stream"): string {
  const s = modelRename("Qwen/Qwen3-8B", "qwen3-8b").stream(type)!;
  let out = "";
  for (const c of chunks) {
    const piece = s.push(enc.encode(c));
    if (piece) out += dec.decode(piece);
  }
  const rest = s.end();
  return rest ? out + dec.decode(rest) : out;
}

Deno.test("modelRename(): a JSON answer gets the public name in every model field, spaced or not", () => {
  const r = modelRename("Qwen/Qwen3-8B", "qwen3-8b");
  const out = dec.decode(r.json(enc.encode('{"model" : "Qwen/Qwen3-8B","x":{"model":"Qwen/Qwen3-8B"}}')));
  assert.equal(out, '{"model":"qwen3-8b","x":{"model":"qwen3-8b"}}');
});

Deno.test("modelRename(): an answer without the backend's name is the same bytes (nothing decoded)", () => {
  const r = modelRename("Qwen/Qwen3-8B", "qwen3-8b");
  const bytes = enc.encode('{"model":"other","text":"Qwen/Qwen3-8B is great"}');
  assert.equal(r.json(bytes), bytes, "the name as text elsewhere is no model field");
  const s = r.stream("text/event-stream")!;
  const chunk = enc.encode('data: {"choices":[]}\n\n');
  assert.equal(s.push(chunk), chunk);
});

Deno.test("modelRename(): SSE split anywhere gives the same renamed stream, whole events at once", () => {
  const sse =
    'data: {"model":"Qwen/Qwen3-8B","c":1}\n\ndata: {"model":"Qwen/Qwen3-8B","c":2}\n\ndata: [DONE]\n\n';
  const want = sse.replaceAll("Qwen/Qwen3-8B", "qwen3-8b");
  assert.equal(run([sse]), want);
  for (let size = 1; size < 12; size++) {
    const parts = [];
    for (let i = 0; i < sse.length; i += size) parts.push(sse.slice(i, i + size));
    assert.equal(run(parts), want, `cut every ${size} bytes`);
  }
  const s = modelRename("Qwen/Qwen3-8B", "qwen3-8b").stream("text/event-stream")!;
  assert.equal(
    dec.decode(s.push(enc.encode('data: {"model":"Qwen/Qwen3-8B"}\n\n'))!),
    'data: {"model":"qwen3-8b"}\n\n',
  );
});

Deno.test("modelRename(): NDJSON lines are renamed; an unfinished last line comes out at the end", () => {
  const out = run(
    ['{"model":"Qwen/Qwen3-8B","done":false}\n{"model":"Qwen', '/Qwen3-8B","done":true}'],
    "application/x-ndjson",
  );
  assert.equal(out, '{"model":"qwen3-8b","done":false}\n{"model":"qwen3-8b","done":true}');
});

Deno.test("modelRename(): audio and other bodies are not touched", () => {
  assert.equal(modelRename("a", "b").stream("audio/mpeg"), undefined);
  assert.equal(modelRename("a", "b").stream("image/png"), undefined);
});

Deno.test("modelRename(): a line longer than MAX_PARTIAL_LINE is passed on as it is, not held", () => {
  const s = modelRename("Qwen/Qwen3-8B", "qwen3-8b").stream("application/x-ndjson")!;
  const x = enc.encode("x".repeat(1024 * 1024));
  const head = '{"model":"Qwen/Qwen3-8B"}\n{"text":"';
  let out = dec.decode(s.push(enc.encode(head))!);
  assert.equal(out, '{"model":"qwen3-8b"}\n', "the whole line, renamed");
  let held = 9;
  let most = 0;
  for (let i = 0; i < 2 * MAX_PARTIAL_LINE / x.length; i++) {
    const got = s.push(x);
    if (got) (out += dec.decode(got), held = 0);
    else held += x.length;
    most = Math.max(most, held);
  }
  assert.ok(most <= MAX_PARTIAL_LINE, `at most MAX_PARTIAL_LINE held (${most})`);
  out += dec.decode(s.end()!);
  assert.equal(
    out.length,
    '{"model":"qwen3-8b"}\n{"text":"'.length + 2 * MAX_PARTIAL_LINE,
    "every byte, once",
  );
});

Deno.test("modelRename(): after an over-long line, its rest goes on as it is and the next lines are renamed again", () => {
  const s = modelRename("Qwen/Qwen3-8B", "qwen3-8b").stream("text/event-stream")!;
  const e = enc.encode("é");
  const chunks = [
    enc.encode(`data: {"t":"${"x".repeat(MAX_PARTIAL_LINE)}`),
    Uint8Array.of(...enc.encode("xx"), e[0]),
    Uint8Array.of(e[1], ...enc.encode('"}\n\ndata: {"model":"Qwen/Qwen3-8B"}\n\n')),
  ];
  const text = [...chunks.map((c) => s.push(c)), s.end()].map((c) => c ? dec.decode(c, { stream: true }) : "")
    .join("") + dec.decode();
  assert.ok(text.endsWith('xxé"}\n\ndata: {"model":"qwen3-8b"}\n\n'), text.slice(-60));
  assert.equal(text.length, MAX_PARTIAL_LINE + 'data: {"t":"xxé"}\n\ndata: {"model":"qwen3-8b"}\n\n'.length);
});
