/**
 * Hugging Face text-embeddings-inference (TEI) adapter. Embeddings use the native `/embed`
 * (`{inputs}` → bare `[[...]]`), rerank the native `/rerank` (`{query, texts}` → bare
 * `[{index, score, text?}]`); both are translated to and from OpenAI/Jina shapes. An instance
 * whose `path` is TEI's OpenAI route `/v1/embeddings` is forwarded untouched. Probe: `GET /health`.
 *
 * @module
 */

import type { Adapter, UpstreamCall } from "../types.ts";
import { requireJson } from "./body.ts";
import { createCompatAdapter, sendJson } from "./compat.ts";
import { readEmbeddingRequest, toEmbeddingList } from "./embeddings.ts";
import { normaliseRerank, readRerankRequest, requireTexts } from "./rerank.ts";
import { pathEndsWith } from "./url.ts";

/** Paths a TEI server serves, for adapters and fake upstreams. */
export const TEI_PATHS: Readonly<Record<"embed" | "rerank" | "openaiEmbeddings" | "probe", string>> = Object
  .freeze({
    embed: "/embed",
    rerank: "/rerank",
    openaiEmbeddings: "/v1/embeddings",
    probe: "/health",
  });

/**
 * The TEI adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { teiAdapter } from "./tei.ts";
 * import { HeaderList } from "../header_list.ts";
 * const value = { model: "bge", query: "q", documents: ["a", "b"] };
 * const call = teiAdapter.prepare({
 *   service: "rerank", route: "/v1/rerank", stream: false, headers: new HeaderList(),
 *   target: { baseUrl: "http://127.0.0.1:8080", headers: {} },
 *   body: { kind: "json", bytes: new TextEncoder().encode(JSON.stringify(value)), value },
 * });
 * assert(call.url === "http://127.0.0.1:8080/rerank");
 * ```
 */
export const teiAdapter: Adapter = createCompatAdapter({
  name: "tei",
  label: "text-embeddings-inference",
  paths: { embedding: TEI_PATHS.embed, rerank: TEI_PATHS.rerank },
  completionsPath: null,
  probePath: TEI_PATHS.probe,
  loadSource: { path: "/metrics", parser: "tei" },
  hooks: {
    embedding(input, path, auth): UpstreamCall | undefined {
      // TEI also serves OpenAI's shape on /v1/embeddings: nothing to translate there.
      if (pathEndsWith(path, "/embeddings")) return undefined;
      const req = readEmbeddingRequest(
        requireJson(input.body, "embeddings").value,
        "text-embeddings-inference",
      );
      const { user: _user, ...rest } = req.rest;
      const body = { ...rest, inputs: req.single ? req.texts[0] : req.texts };
      // TEI reports token counts in headers only, so usage is 0 here.
      return { ...sendJson(input, path, body, auth), mapJson: (up) => toEmbeddingList(up, req, 0) };
    },
    rerank(input, path, auth): UpstreamCall {
      const { value } = requireJson(input.body, "rerank");
      const req = readRerankRequest(value);
      const texts = requireTexts(req, "text-embeddings-inference");
      const { model, query: _q, documents: _d, top_n: _t, return_documents: _r, ...rest } = value;
      const body = { ...rest, query: req.query, texts, return_text: req.returnDocuments === true };
      const fallbackModel = typeof model === "string" ? model : undefined;
      return {
        ...sendJson(input, path, body, auth),
        mapJson: (up) => {
          const out = normaliseRerank(up, req);
          return fallbackModel && out.model === undefined ? { model: fallbackModel, ...out } : out;
        },
      };
    },
  },
});
