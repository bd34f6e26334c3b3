import assert from "node:assert/strict";
import { runStream } from "./_testing.ts";
import { createLineTransform, LINE_TOO_LONG, MAX_PARTIAL_LINE } from "./line_stream.ts";

const echo = () => createLineTransform({ line: (l) => `[${l}]`, end: () => "$" });

Deno.test("createLineTransform() gives the same lines for any chunk split, CRLF included", async () => {
  const text = "one\r\ntwo\n\nthré\nlast";
  for (const size of [1, 2, 3, 5, Infinity]) {
    assert.equal(await runStream(echo, text, size), "[one][two][][thré][last]$");
  }
});

Deno.test("createLineTransform() emits nothing for an empty stream but the end text", async () => {
  assert.equal(await runStream(echo, ""), "$");
});

Deno.test("createLineTransform() carries only the partial line between chunks", async () => {
  const stream = echo();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const enc = new TextEncoder();
  void writer.write(enc.encode("a\nb"));
  assert.equal(new TextDecoder().decode((await reader.read()).value), "[a]");
  void writer.write(enc.encode("c\n"));
  assert.equal(new TextDecoder().decode((await reader.read()).value), "[bc]");
  void writer.close();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "$");
  assert.equal((await reader.read()).done, true);
});

Deno.test("createLineTransform() fails a line that never ends once MAX_PARTIAL_LINE is carried, after the lines before it", async () => {
  const stream = echo();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const enc = new TextEncoder();
  void writer.write(enc.encode("ok\n")).catch(() => {});
  assert.equal(new TextDecoder().decode((await reader.read()).value), "[ok]");
  const mib = enc.encode("x".repeat(1024 * 1024));
  for (let i = 0; i < MAX_PARTIAL_LINE / mib.length; i++) void writer.write(mib).catch(() => {});
  void writer.write(mib).catch(() => {});
  await assert.rejects(reader.read(), new Error(LINE_TOO_LONG));
});
