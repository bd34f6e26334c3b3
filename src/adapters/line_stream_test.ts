import assert from "node:assert/strict";
import { runStream } from "./_testing.ts";
import { createLineTransform } from "./line_stream.ts";

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
