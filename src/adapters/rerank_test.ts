import assert from "node:assert/strict";
import { BadRequestError, UpstreamError } from "../errors.ts";
import { flattenDocuments, normaliseRerank, readRerankRequest, requireTexts } from "./rerank.ts";

const req = (value: Record<string, unknown>) =>
  readRerankRequest({ query: "q", documents: ["a", "b", "c"], ...value });

Deno.test("normaliseRerank() sorts by score descending and keeps ties in upstream order", () => {
  const out = normaliseRerank({
    results: [
      { index: 0, relevance_score: 0.5 },
      { index: 1, relevance_score: 0.9 },
      { index: 2, relevance_score: 0.5 },
    ],
  }, req({}));
  assert.deepEqual(out.results.map((r) => r.index), [1, 0, 2]);
});

Deno.test("normaliseRerank() cuts to top_n, and top_n 0 gives no results", () => {
  const up = [{ index: 0, score: 0.1 }, { index: 1, score: 0.2 }, { index: 2, score: 0.3 }];
  assert.deepEqual(normaliseRerank(up, req({ top_n: 2 })).results.map((r) => r.index), [2, 1]);
  assert.deepEqual(normaliseRerank(up, req({ top_n: 0 })).results, []);
});

Deno.test("normaliseRerank() turns string documents into {text} and drops them when not wanted", () => {
  const up = { data: [{ index: 0, relevance_score: 1, document: "a" }] };
  assert.deepEqual(normaliseRerank(up, req({})).results[0].document, { text: "a" });
  assert.equal(normaliseRerank(up, req({ return_documents: false })).results[0].document, undefined);
});

Deno.test("normaliseRerank() derives usage from Cohere meta.billed_units when no tokens are given", () => {
  const out = normaliseRerank({
    results: [],
    meta: { billed_units: { input_tokens: 5, output_tokens: 1, search_units: 1 } },
  }, req({}));
  assert.deepEqual(out.usage, { prompt_tokens: 5, total_tokens: 6 });
});

Deno.test("normaliseRerank() throws UpstreamError for answers it cannot read", () => {
  assert.throws(() => normaliseRerank({ foo: 1 }, req({})), UpstreamError);
  assert.throws(() => normaliseRerank([{ index: 0 }], req({})), UpstreamError);
  assert.throws(() => normaliseRerank([1], req({})), UpstreamError);
});

Deno.test("flattenDocuments() rewrites {text} documents only when every one has text", () => {
  assert.equal(flattenDocuments({ documents: ["a", "b"] }), undefined);
  assert.equal(flattenDocuments({ documents: [{ image: "x" }] }), undefined);
  assert.deepEqual(flattenDocuments({ q: 1, documents: [{ text: "a" }, "b"] }), {
    q: 1,
    documents: ["a", "b"],
  });
});

Deno.test("requireTexts() names the first document without text", () => {
  assert.throws(
    () => requireTexts(readRerankRequest({ documents: ["a", { image: "x" }] })),
    (e) => e instanceof BadRequestError && e.message.startsWith("documents[1]"),
  );
});
