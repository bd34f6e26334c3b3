import assert from "node:assert/strict";
import { HeaderList } from "../header_list.ts";
import { clientErrorResponse, endsWithDone, errorSnippet, parseRetryAfter } from "./upstream_body.ts";

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

Deno.test("endsWithDone() tells a complete SSE answer from a cut one", () => {
  assert.equal(endsWithDone([enc('data: {"a":1}\n\n'), enc("data: [DONE]\n\n")]), true);
  assert.equal(endsWithDone([enc('data: {"a":1}\n\n')]), false);
  assert.equal(endsWithDone([]), false);
  assert.equal(endsWithDone([enc('data: {"a":1}\n\ndata: [DO'), enc("NE]\n\n")]), true, "split across reads");
  assert.equal(endsWithDone([enc("data: [DONE]\n\n"), enc('data: {"a":1}\n\n')]), false);
});
