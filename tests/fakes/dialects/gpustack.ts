/**
 * A fake GPUStack server (GPUStack docs, "OpenAI Compatible APIs" and "Rerank API"): every
 * OpenAI route under `/v1-openai/...`, Jina-style `/v1/rerank`, and an API key on every route,
 * the probe included (`GET /v1-openai/models`).
 *
 * @module
 */

import { GPUSTACK_PATHS } from "../../../src/adapters/mod.ts";
import { type DialectFake, json, serveDialect } from "./server.ts";
import {
  docsOf,
  openaiChat,
  openaiCompletion,
  openaiEmbeddings,
  openaiImages,
  openaiModels,
  openaiSpeech,
  openaiTranscription,
  scoreOf,
} from "./shapes.ts";

/** The key the fake insists on. */
export const GPUSTACK_KEY = "gpustack_0123_secret";

/** Starts the fake GPUStack. */
export function startGpustack(): DialectFake {
  return serveDialect({
    name: "gpustack",
    apiKey: GPUSTACK_KEY,
    routes: {
      [`POST ${GPUSTACK_PATHS.chat}`]: (req, ctx) => openaiChat(req, ctx, "fp_gpustack"),
      [`POST ${GPUSTACK_PATHS.completions}`]: (req) => openaiCompletion(req, "fp_gpustack"),
      [`POST ${GPUSTACK_PATHS.embedding}`]: (req) => openaiEmbeddings(req),
      [`POST ${GPUSTACK_PATHS.rerank}`]: (req) => {
        const query = String(req.json?.query);
        const docs = docsOf(req.json);
        const results = docs
          .map((text, index) => ({ index, document: { text }, relevance_score: scoreOf(query, text, index) }))
          .sort((a, b) => b.relevance_score - a.relevance_score);
        return json({
          model: req.json?.model,
          results,
          usage: { prompt_tokens: docs.length * 4, total_tokens: docs.length * 4 },
        });
      },
      [`POST ${GPUSTACK_PATHS.tts}`]: (req, ctx) => openaiSpeech(req, ctx, "gpustack"),
      [`POST ${GPUSTACK_PATHS.stt}`]: (req) => openaiTranscription(req, "gpustack"),
      [`POST ${GPUSTACK_PATHS.imgGen}`]: (req) => openaiImages(req, "gpustack"),
      [`POST ${GPUSTACK_PATHS.imgEdit}`]: (req) => openaiImages(req, "gpustack"),
      [`GET ${GPUSTACK_PATHS.probe}`]: () => openaiModels(["qwen3", "bge-m3"], "gpustack"),
    },
  });
}
