import assert from "node:assert/strict";
import { fixtureJson } from "./_testing.ts";
import { upstreamErrorMessage } from "./upstream_error.ts";

Deno.test("upstreamErrorMessage() reads every backend's error fixture", async () => {
  const cases: [string, string, string][] = [
    ["ollama", "error_model_not_found.json", 'model "llama9" not found, try pulling it first'],
    [
      "tei",
      "error_validation.json",
      "Input validation error: `inputs` must have less than 512 tokens. Given: 600",
    ],
    ["vllm", "error_bad_request.json", "Currently only support response_format `text` or `json`"],
    ["xinference", "error_detail.json", "Model not found in the model list, uid: bge-reranker-v9"],
    ["llamacpp", "error_loading.json", "Loading model"],
  ];
  for (const [backend, file, message] of cases) {
    assert.equal(upstreamErrorMessage(await fixtureJson(backend, file)), message, backend);
  }
});

Deno.test("upstreamErrorMessage() returns undefined for bodies without a message", () => {
  for (const body of [null, 3, "", [], {}, { detail: [{}] }]) {
    assert.equal(upstreamErrorMessage(body), undefined);
  }
});
