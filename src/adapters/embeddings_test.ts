import assert from "node:assert/strict";
import { BadRequestError, UpstreamError } from "../errors.ts";
import { readEmbeddingRequest, toBase64Float32, toEmbeddingList } from "./embeddings.ts";

Deno.test("readEmbeddingRequest() refuses empty, token-id and unknown-format requests", () => {
  for (
    const value of [{ input: [] }, { input: [1, 2] }, { input: 3 }, { input: "a", encoding_format: "int8" }]
  ) {
    assert.throws(() => readEmbeddingRequest(value, "X"), BadRequestError);
  }
});

Deno.test("toBase64Float32() encodes little-endian float32 like the OpenAI API", () => {
  assert.equal(toBase64Float32([]), "");
  assert.equal(toBase64Float32([1, -2]), "AACAPwAAAMA=");
});

Deno.test("toEmbeddingList() throws UpstreamError for a malformed vector list", () => {
  const req = { model: "m", encodingFormat: "float" as const };
  assert.throws(() => toEmbeddingList({ embeddings: [] }, req, 0), UpstreamError);
  assert.throws(() => toEmbeddingList([["x"]], req, 0), UpstreamError);
});
