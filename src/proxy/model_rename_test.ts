import assert from "node:assert/strict";
import { modelRename } from "./model_rename.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const FROM = "Qwen/Qwen3-8B";
const TO = "qwen3-8b";

/** What a client gets for `chunks` (strings or bytes), all pieces joined. */
function runBytes(chunks: Uint8Array[], type = "text/event-stream", from = FROM, to = TO): Uint8Array {
  const s = modelRename(from, to).stream(type)!;
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    const piece = s.push(c);
    if (piece) out.push(piece);
  }
  const rest = s.end();
  if (rest) out.push(rest);
  const all = new Uint8Array(out.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of out) (all.set(p, at), at += p.byteLength);
  return all;
}

function run(chunks: string[], type = "text/event-stream", from = FROM, to = TO): string {
  return dec.decode(runBytes(chunks.map((c) => enc.encode(c)), type, from, to));
}

/** `text` cut into two chunks at every byte. */
function everySplit(bytes: Uint8Array): [Uint8Array, Uint8Array][] {
  const cuts: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i <= bytes.length; i++) cuts.push([bytes.slice(0, i), bytes.slice(i)]);
  return cuts;
}

Deno.test("modelRename(): a JSON answer gets the public name in every model field; the key and its spacing stay", () => {
  const r = modelRename(FROM, TO);
  const out = dec.decode(r.json(enc.encode('{"model" : "Qwen/Qwen3-8B","x":{"model":"Qwen/Qwen3-8B"}}')));
  assert.equal(out, '{"model" : "qwen3-8b","x":{"model":"qwen3-8b"}}');
});

Deno.test("modelRename(): every JSON whitespace around the colon is looked through, within 64 bytes", () => {
  const r = modelRename(FROM, TO);
  for (
    const [before, after] of [["", " "], [" ", ""], ["\t", "\n"], ["\r\n", "\r\n  "], [
      " ".repeat(32),
      " ".repeat(32),
    ]]
  ) {
    const text = `{"model"${before}:${after}"Qwen/Qwen3-8B"}`;
    assert.equal(
      dec.decode(r.json(enc.encode(text))),
      `{"model"${before}:${after}"qwen3-8b"}`,
      JSON.stringify(text),
    );
    for (const [a, b] of everySplit(enc.encode(text))) {
      assert.equal(dec.decode(runBytes([a, b], "application/json")), `{"model"${before}:${after}"qwen3-8b"}`);
    }
  }
  for (const [before, after] of [[65, 0], [0, 65], [33, 32]]) {
    const far = enc.encode(`{"model"${" ".repeat(before)}:${" ".repeat(after)}"Qwen/Qwen3-8B"}`);
    assert.equal(r.json(far), far, `${before} + ${after} spaces: past the bound, not looked for`);
  }
  const far = enc.encode(`{"model"${" ".repeat(40)}:${" ".repeat(40)}"Qwen/Qwen3-8B"}`);
  assert.equal(r.json(far), far, "past 64 bytes of spacing: not looked for (and no JSON writer does that)");
});

Deno.test("modelRename(): an answer without the backend's name is the same bytes (nothing decoded, nothing copied)", () => {
  const r = modelRename(FROM, TO);
  const bytes = enc.encode('{"model":"other","text":"Qwen/Qwen3-8B is great"}');
  assert.equal(r.json(bytes), bytes, "the name as text elsewhere is no model field");
  const s = r.stream("text/event-stream")!;
  for (let i = 0; i < 3; i++) {
    const chunk = enc.encode(`data: {"model":"qwen3-8b","choices":[{"delta":{"content":"é ${i}"}}]}\n\n`);
    assert.equal(s.push(chunk), chunk, "the same object");
  }
  assert.equal(s.end(), undefined);
});

Deno.test("modelRename(): the name under another key, or escaped inside a string, is not renamed", () => {
  const r = modelRename(FROM, TO);
  for (
    const text of [
      '{"id":"Qwen/Qwen3-8B","owned_by" : "Qwen/Qwen3-8B"}',
      '{"content":"say \\"model\\":\\"Qwen/Qwen3-8B\\" here"}',
      '{"content":"\\"model\\": \\"Qwen/Qwen3-8B\\""}',
      '{"arguments":"{\\"model\\":\\"Qwen/Qwen3-8B\\"}"}',
      '{"a\\"model":"Qwen/Qwen3-8B"}', // the key is a"model
      '{"mymodel":"Qwen/Qwen3-8B"}',
      '{"model":["Qwen/Qwen3-8B"]}',
      '{"model":"Qwen/Qwen3-8B-Instruct"}',
    ]
  ) {
    JSON.parse(text); // each is valid JSON
    const bytes = enc.encode(text);
    assert.equal(r.json(bytes), bytes, text);
    assert.equal(run([text], "application/json"), text, text);
    for (const [a, b] of everySplit(bytes)) {
      assert.equal(dec.decode(runBytes([a, b], "application/json")), text, `${text} cut at ${a.length}`);
    }
  }
});

Deno.test("modelRename(): the name cut at every byte across two chunks is renamed", () => {
  const text = 'data: {"id":"x","model":"Qwen/Qwen3-8B","choices":[]}\n\n';
  const want = text.replace(FROM, TO);
  for (const [a, b] of everySplit(enc.encode(text))) {
    assert.equal(dec.decode(runBytes([a, b])), want, `cut at ${a.length}`);
  }
});

Deno.test("modelRename(): the key in one chunk and the name in the next (any spacing) is renamed", () => {
  for (const [key, space] of [['"model":', ""], ['"model" :', " "], ['"model"\n:', "\t "]]) {
    const text = `data: {"id":"x",${key}${space}"Qwen/Qwen3-8B","c":1}\n\n`;
    const want = text.replace(FROM, TO);
    const at = text.indexOf('"Qwen');
    assert.equal(
      run([text.slice(0, at), text.slice(at)]),
      want,
      `${JSON.stringify(key)}: the name starts a chunk`,
    );
    const k = text.indexOf(key) + key.length;
    assert.equal(
      run([text.slice(0, k), space, text.slice(at)]),
      want,
      `${JSON.stringify(key)}: key, space, name`,
    );
  }
  // Chunks smaller than the look-behind: the key is put together from several.
  const text = 'data: {"id":"x","model":   "Qwen/Qwen3-8B"}\n\n';
  for (let size = 1; size < 20; size++) {
    const parts = [];
    for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
    assert.equal(run(parts), text.replace(FROM, TO), `cut every ${size} bytes`);
  }
});

Deno.test("modelRename(): SSE cut anywhere gives the same renamed stream", () => {
  const sse =
    'data: {"model":"Qwen/Qwen3-8B","c":1}\n\ndata: {"model":"Qwen/Qwen3-8B","c":2}\n\ndata: [DONE]\n\n';
  const want = sse.replaceAll(FROM, TO);
  assert.equal(run([sse]), want);
  for (let size = 1; size < 40; size++) {
    const parts = [];
    for (let i = 0; i < sse.length; i += size) parts.push(sse.slice(i, i + size));
    assert.equal(run(parts), want, `cut every ${size} bytes`);
  }
});

Deno.test("modelRename(): an SSE event is never held back: each push gives its whole event, renamed", () => {
  const s = modelRename(FROM, TO).stream("text/event-stream")!;
  for (let i = 0; i < 3; i++) {
    const event = `data: {"model":"Qwen/Qwen3-8B","choices":[{"delta":{"content":"\\"${i}\\""}}]}\n\n`;
    assert.equal(dec.decode(s.push(enc.encode(event))!), event.replace(FROM, TO));
  }
  const quoteEnd = enc.encode('data: {"model":"qwen3-8b","x":"');
  assert.equal(s.push(quoteEnd), quoteEnd, "a quote at the end of a chunk is no model value: not held");
  const cut = s.push(enc.encode('"}\n\ndata: {"model":"Qwen/Qwe'))!;
  assert.equal(dec.decode(cut), '"}\n\ndata: {"model":', "only the cut name waits");
  assert.equal(dec.decode(s.push(enc.encode('n3-8B"}\n\n'))!), '"qwen3-8b"}\n\n');
  assert.equal(s.end(), undefined);
});

Deno.test("modelRename(): UTF-8 around the name and cut inside its characters stays byte for byte", () => {
  const text = '{"t":"日本語 é 🙂","model":"Qwen/Qwen3-8B","u":"ü🙂日"}\n{"model":"Qwen/Qwen3-8B"}\n';
  const bytes = enc.encode(text);
  const want = enc.encode(text.replaceAll(FROM, TO));
  for (const [a, b] of everySplit(bytes)) {
    assert.deepEqual(runBytes([a, b], "application/x-ndjson"), want, `cut at ${a.length}`);
  }
  for (let size = 1; size < 8; size++) {
    const parts = [];
    for (let i = 0; i < bytes.length; i += size) parts.push(bytes.slice(i, i + size));
    assert.deepEqual(runBytes(parts, "application/x-ndjson"), want, `cut every ${size} bytes`);
  }
  const name = "Модель/é-8B";
  const wide = enc.encode(`{"model":${JSON.stringify(name)},"t":"ok"}`);
  for (const [a, b] of everySplit(wide)) {
    assert.equal(dec.decode(runBytes([a, b], "application/json", name, "m")), '{"model":"m","t":"ok"}');
  }
});

Deno.test("modelRename(): NDJSON lines are renamed; a line without its end is renamed too", () => {
  const out = run(
    ['{"model":"Qwen/Qwen3-8B","done":false}\n{"model":"Qwen', '/Qwen3-8B","done":true}'],
    "application/x-ndjson",
  );
  assert.equal(out, '{"model":"qwen3-8b","done":false}\n{"model":"qwen3-8b","done":true}');
});

Deno.test("modelRename(): a stream that ends inside the name gives the held bytes back as they came", () => {
  assert.equal(run(['{"model":"Qwen/Qw']), '{"model":"Qwen/Qw');
  assert.equal(run(['{"model":', '"Qwen/Qw']), '{"model":"Qwen/Qw');
});

Deno.test("modelRename(): a name with quotes and backslashes is matched as its JSON string", () => {
  const from = 'we"ird\\name';
  const text = `{"model":${JSON.stringify(from)},"x":${JSON.stringify(`"model":${JSON.stringify(from)}`)}}`;
  assert.equal(JSON.parse(run([text], "application/json", from, "m")).model, "m");
  assert.equal(JSON.parse(run([text], "application/json", from, "m")).x, `"model":${JSON.stringify(from)}`);
  for (const [a, b] of everySplit(enc.encode(text))) {
    const got = JSON.parse(dec.decode(runBytes([a, b], "application/json", from, "m")));
    assert.deepEqual(got, { model: "m", x: `"model":${JSON.stringify(from)}` }, `cut at ${a.length}`);
  }
});

Deno.test("modelRename(): a 20 MiB one-line JSON answer with the model at its end is renamed while streamed in 64 KiB chunks, holding next to nothing", () => {
  const from = "Org/Big-Model";
  const s = modelRename(from, "m").stream("application/json")!;
  const size = 20 * 1024 * 1024;
  const head = enc.encode('{"object":"list","data":[{"embedding":"');
  const tail = enc.encode(`"}],"model":${JSON.stringify(from)},"usage":{"prompt_tokens":1}}`);
  const body = new Uint8Array(head.length + size + tail.length).fill(0x78); // "x"
  body.set(head);
  body.set(tail, head.length + size);
  let sent = 0;
  let got = 0;
  let most = 0;
  const last: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += 64 * 1024) {
    const chunk = body.subarray(at, at + 64 * 1024);
    sent += chunk.length;
    const out = s.push(chunk);
    if (out) (got += out.length, last.push(out), last.splice(0, last.length - 4));
    most = Math.max(most, sent - got);
  }
  const rest = s.end();
  assert.equal(rest, undefined);
  assert.ok(most <= 16, `at most a few bytes held (${most})`);
  const end = dec.decode(last.at(-1)!);
  assert.ok(end.endsWith('"}],"model":"m","usage":{"prompt_tokens":1}}'), end.slice(-80));
  assert.equal(got, body.length - (JSON.stringify(from).length - JSON.stringify("m").length));
});

Deno.test("modelRename(): a stream cut at random gives what the whole-body rewrite gives", () => {
  const r = modelRename(FROM, TO);
  const doc = enc.encode(
    [
      'data: {"model":"Qwen/Qwen3-8B","x":"\\"model\\":\\"Qwen/Qwen3-8B\\"","id":"Qwen/Qwen3-8B"}\n\n',
      'data: {"t":"日本 🙂","model" :\n "Qwen/Qwen3-8B"}\r\n\r\n',
      '{"a\\"model":"Qwen/Qwen3-8B","model":"Qwen/Qwen3-8B","model":"Qwen/Qwen3-8B"}\n',
    ].join("").repeat(4),
  );
  const want = r.json(doc);
  assert.notEqual(want, doc);
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 300; round++) {
    const parts: Uint8Array[] = [];
    for (let at = 0; at < doc.length;) {
      const size = 1 + Math.floor(next() * (round % 3 === 0 ? 4 : 120));
      parts.push(doc.slice(at, at + size));
      at += size;
    }
    assert.deepEqual(runBytes(parts), want, `round ${round}`);
  }
});

Deno.test("modelRename(): audio and other bodies are not touched", () => {
  assert.equal(modelRename("a", "b").stream("audio/mpeg"), undefined);
  assert.equal(modelRename("a", "b").stream("image/png"), undefined);
});
