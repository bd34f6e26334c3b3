import assert from "node:assert/strict";
import { MAX_PARK_MS } from "../breaker/mod.ts";
import { HeaderList } from "../header_list.ts";
import { chunkReader } from "./chunk_reader.ts";
import {
  clientErrorResponse,
  endsWithDone,
  errorSnippet,
  parseRetryAfter,
  readToEnd,
} from "./upstream_body.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("clientErrorResponse() passes an OpenAI error through byte for byte", async () => {
  const raw = '{"error": {"message": "bad", "type": "invalid_request_error", "code": null}}';
  const res = await clientErrorResponse(new Response(raw, { status: 400 }), new HeaderList());
  assert.equal(res.status, 400);
  assert.equal(await res.text(), raw);
});

Deno.test("clientErrorResponse() rewrites Ollama, FastAPI and plain-text errors into OpenAI's shape", async () => {
  for (
    const [body, message] of [
      ['{"error":"model \\"x\\" not found"}', 'model "x" not found'],
      ['{"detail":"Not Found"}', "Not Found"],
      ["nope", "nope"],
    ]
  ) {
    const res = await clientErrorResponse(new Response(body, { status: 404 }), new HeaderList());
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), {
      error: { message, type: "invalid_request_error", code: "upstream_404", param: null },
    });
  }
});

Deno.test("errorSnippet() and parseRetryAfter() read what a failed answer says", async () => {
  assert.equal(await errorSnippet(new Response("line one\n  line two")), "line one line two");
  assert.equal(parseRetryAfter("2.5", 0), 2500);
  assert.equal(
    parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:27:00 GMT")),
    60_000,
  );
  assert.equal(parseRetryAfter("soon", 0), undefined);
});

Deno.test("parseRetryAfter() keeps at most MAX_PARK_MS of a wait, in seconds or as a date", () => {
  assert.equal(parseRetryAfter("86400", 0), MAX_PARK_MS);
  assert.equal(parseRetryAfter("300", 0), MAX_PARK_MS);
  assert.equal(parseRetryAfter("299", 0), 299_000);
  assert.equal(parseRetryAfter("1e308", 0), MAX_PARK_MS);
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.equal(parseRetryAfter("Thu, 22 Oct 2015 07:28:00 GMT", now), MAX_PARK_MS);
  assert.equal(parseRetryAfter("86400", 0, 1000), 1000, "another bound when asked");
});

Deno.test("endsWithDone() tells a complete SSE answer from a cut one", () => {
  assert.equal(endsWithDone([enc('data: {"a":1}\n\n'), enc("data: [DONE]\n\n")]), true);
  assert.equal(endsWithDone([enc('data: {"a":1}\n\n')]), false);
  assert.equal(endsWithDone([]), false);
  assert.equal(endsWithDone([enc('data: {"a":1}\n\ndata: [DO'), enc("NE]\n\n")]), true, "split across reads");
  assert.equal(endsWithDone([enc("data: [DONE]\n\n"), enc('data: {"a":1}\n\n')]), false);
  const pieces = 'data: {"a":1}\n\ndata: [DONE]\n\n'.match(/[^]{1,3}/g)!.map(enc);
  assert.equal(endsWithDone(pieces), true, "split across many small reads");
});

Deno.test("readToEnd() joins any number of chunks (1-byte ones too) into one buffer, and stops past max", async () => {
  const text = "x".repeat(200_000) + "end";
  const byteByByte = () =>
    new ReadableStream<Uint8Array>({
      start(c) {
        const bytes = new TextEncoder().encode(text);
        for (let i = 0; i < bytes.length; i += 1 + (i % 7)) c.enqueue(bytes.slice(i, i + 1 + (i % 7)));
        c.close();
      },
    });
  let chunks = 0;
  const whole = await readToEnd(chunkReader(byteByByte()), 1 << 20, { chunk: () => chunks++ });
  assert.equal(new TextDecoder().decode(whole.bytes), text);
  assert.ok(whole.complete && chunks > 50_000, `${chunks} chunks`);
  const reader = chunkReader(byteByByte());
  const cut = await readToEnd(reader, 1000, undefined, new TextEncoder().encode("x"));
  assert.equal(cut.complete, false);
  assert.ok(cut.bytes.byteLength > 1000 && cut.bytes.byteLength <= 1008, "the chunk past max, and no more");
  assert.equal((await reader.read())?.[0], 120, "the rest is left to read");
});
