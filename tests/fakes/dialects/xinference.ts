/**
 * A fake Xinference server (Xinference docs, "OpenAI-compatible API"; its RESTful API source):
 * OpenAI routes under `/v1`, Cohere-style rerank answers with `meta.tokens` and `document: null`
 * unless asked, Whisper transcriptions in `json`/`verbose_json` and translations, speech, images
 * (variations too), and FastAPI's
 * `{detail}` error bodies. Probe: `GET /v1/models`.
 *
 * @module
 */

import { XINFERENCE_PATHS } from "../../../src/adapters/mod.ts";
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
  openaiTranslation,
  scoreOf,
} from "./shapes.ts";

/** Starts the fake Xinference. */
export function startXinference(): DialectFake {
  return serveDialect({
    name: "xinference",
    notFound: () => json({ detail: "Not Found" }, 404),
    routes: {
      [`POST ${XINFERENCE_PATHS.chat}`]: (req, ctx) => openaiChat(req, ctx, "fp_xinference"),
      // xinference/api/routers/audio.py and images.py
      "POST /v1/audio/translations": (req) => openaiTranslation(req, "xinference"),
      "POST /v1/images/variations": (req) => openaiImages(req, "xinference-variation"),
      [`POST ${XINFERENCE_PATHS.completions}`]: (req) => openaiCompletion(req, "fp_xinference"),
      [`POST ${XINFERENCE_PATHS.embedding}`]: (req) => openaiEmbeddings(req, false),
      [`POST ${XINFERENCE_PATHS.rerank}`]: (req) => {
        const query = String(req.json?.query);
        const docs = docsOf(req.json);
        const withDocs = req.json?.return_documents === true;
        const results = docs
          .map((text, index) => ({
            index,
            relevance_score: scoreOf(query, text, index),
            document: withDocs ? { text } : null,
          }))
          .sort((a, b) => b.relevance_score - a.relevance_score);
        const topN = typeof req.json?.top_n === "number" ? req.json.top_n : results.length;
        return json({
          id: "rerank-xinference",
          results: results.slice(0, topN),
          meta: {
            api_version: null,
            billed_units: null,
            tokens: { input_tokens: docs.length * 5, output_tokens: 0 },
            warnings: null,
          },
        });
      },
      [`POST ${XINFERENCE_PATHS.tts}`]: (req, ctx) => openaiSpeech(req, ctx, "xinference"),
      [`POST ${XINFERENCE_PATHS.stt}`]: (req) => {
        const format = req.form?.get("response_format") ?? "json";
        if (format !== "json" && format !== "verbose_json") {
          return json({ detail: `Unsupported response format: ${format}` }, 500);
        }
        return openaiTranscription(req, "xinference");
      },
      [`POST ${XINFERENCE_PATHS.imgGen}`]: (req) => openaiImages(req, "xinference"),
      [`POST ${XINFERENCE_PATHS.imgEdit}`]: (req) => openaiImages(req, "xinference"),
      [`GET ${XINFERENCE_PATHS.probe}`]: () => openaiModels(["qwen3", "bge-reranker-v2-m3"], "xinference"),
    },
  });
}
