/**
 * A fake vLLM OpenAI-compatible server (vLLM docs, "OpenAI-Compatible Server"): chat,
 * completions, embeddings (base64 honoured), `/v1/rerank` (Jina shape, sorted), `/v1/score`
 * (`{text_1, text_2}` → `data: [{index, score}]` in document order), transcriptions, `GET /health`
 * (200, empty body), audio translations, and its native `/v1/messages` and `/v1/responses`
 * (`native.ts`). Errors use vLLM's `{object: "error", message, type, code}`.
 *
 * @module
 */

import { VLLM_PATHS } from "../../../src/adapters/mod.ts";
import { VLLM_NATIVE_ROUTES } from "./native.ts";
import { type DialectFake, json, serveDialect } from "./server.ts";
import {
  docsOf,
  openaiChat,
  openaiCompletion,
  openaiEmbeddings,
  openaiModels,
  openaiTranscription,
  openaiTranslation,
  scoreOf,
} from "./shapes.ts";

/** Starts the fake vLLM. */
export function startVllm(): DialectFake {
  return serveDialect({
    name: "vllm",
    notFound: (req) =>
      json({ object: "error", message: `Not Found: ${req.path}`, type: "NotFoundError", code: 404 }, 404),
    routes: {
      [`POST ${VLLM_PATHS.chat}`]: (req, ctx) => openaiChat(req, ctx, "fp_vllm"),
      [`POST ${VLLM_PATHS.completions}`]: (req) => openaiCompletion(req, "fp_vllm"),
      [`POST ${VLLM_PATHS.embeddings}`]: (req) => openaiEmbeddings(req),
      [`POST ${VLLM_PATHS.rerank}`]: (req) => {
        const query = String(req.json?.query);
        const docs = docsOf(req.json);
        const results = docs
          .map((text, index) => ({ index, document: { text }, relevance_score: scoreOf(query, text, index) }))
          .sort((a, b) => b.relevance_score - a.relevance_score);
        const topN = typeof req.json?.top_n === "number" ? req.json.top_n : results.length;
        return json({
          id: "rerank-vllm",
          model: req.json?.model,
          usage: { total_tokens: docs.length * 4 },
          results: results.slice(0, topN),
        });
      },
      [`POST ${VLLM_PATHS.score}`]: (req) => {
        const query = String(req.json?.text_1);
        return json({
          id: "score-vllm",
          object: "list",
          created: 1,
          model: req.json?.model,
          data: docsOf(req.json).map((t, index) => ({
            index,
            object: "score",
            score: scoreOf(query, t, index),
          })),
          usage: { prompt_tokens: 12, total_tokens: 12 },
        });
      },
      [`POST ${VLLM_PATHS.transcriptions}`]: (req) => openaiTranscription(req, "vllm"),
      "POST /v1/audio/translations": (req) => openaiTranslation(req, "vllm"),
      // vLLM's own Anthropic Messages and Responses endpoints (pass-through tests).
      ...VLLM_NATIVE_ROUTES,
      [`GET ${VLLM_PATHS.probe}`]: () => new Response(null, { status: 200 }),
      "GET /v1/models": () => openaiModels(["qwen3"], "vllm"),
    },
  });
}
