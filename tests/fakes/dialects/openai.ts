/**
 * A fake plain OpenAI-compatible server for the `openai`/`normal` adapter: every OpenAI route of
 * the seven services (OpenAI API reference) plus a Jina-style `/v1/rerank` in document order, and
 * `GET /v1/models` for the probe.
 *
 * @module
 */

import { OPENAI_PATHS, OPENAI_PROBE_PATH } from "../../../src/adapters/mod.ts";
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

/** Starts the fake OpenAI-compatible server. */
export function startOpenai(): DialectFake {
  return serveDialect({
    name: "openai",
    routes: {
      [`POST ${OPENAI_PATHS.chat}`]: (req, ctx) => openaiChat(req, ctx, "fp_openai"),
      "POST /v1/completions": (req) => openaiCompletion(req, "fp_openai"),
      [`POST ${OPENAI_PATHS.embedding}`]: (req) => openaiEmbeddings(req),
      [`POST ${OPENAI_PATHS.rerank}`]: (req) => {
        const query = String(req.json?.query);
        return json({
          results: docsOf(req.json).map((text, index) => ({
            index,
            relevance_score: scoreOf(query, text, index),
            document: { text },
          })),
        });
      },
      [`POST ${OPENAI_PATHS.tts}`]: (req, ctx) => openaiSpeech(req, ctx, "openai"),
      [`POST ${OPENAI_PATHS.stt}`]: (req) => openaiTranscription(req, "openai"),
      [`POST ${OPENAI_PATHS.imgGen}`]: (req) => openaiImages(req, "openai"),
      [`POST ${OPENAI_PATHS.imgEdit}`]: (req) => openaiImages(req, "openai"),
      [`GET ${OPENAI_PROBE_PATH}`]: () => openaiModels(["gpt-4o-mini"], "openai"),
    },
  });
}
