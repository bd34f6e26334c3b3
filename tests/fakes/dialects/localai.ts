/**
 * A fake LocalAI server (LocalAI docs, "Features"): OpenAI routes under `/v1`, Jina-style
 * `/v1/rerank`, WAV speech, transcriptions whose JSON is LocalAI's own `{segments, text}`, image
 * generation, moderations, and `GET /readyz`. No image editing.
 *
 * @module
 */

import { LOCALAI_PATHS } from "../../../src/adapters/mod.ts";
import { type DialectFake, json, serveDialect } from "./server.ts";
import {
  docsOf,
  openaiChat,
  openaiCompletion,
  openaiEmbeddings,
  openaiImages,
  openaiModeration,
  openaiSpeech,
  openaiTranscription,
  scoreOf,
} from "./shapes.ts";

/** Starts the fake LocalAI. */
export function startLocalai(): DialectFake {
  return serveDialect({
    name: "localai",
    routes: {
      [`POST ${LOCALAI_PATHS.chat}`]: (req, ctx) => openaiChat(req, ctx, "fp_localai"),
      // core/http/routes/openai.go: a completion (guard) model answers moderations.
      "POST /v1/moderations": (req) => openaiModeration(req, "localai"),
      [`POST ${LOCALAI_PATHS.completions}`]: (req) => openaiCompletion(req, "fp_localai"),
      [`POST ${LOCALAI_PATHS.embedding}`]: (req) => openaiEmbeddings(req, false),
      [`POST ${LOCALAI_PATHS.rerank}`]: (req) => {
        const query = String(req.json?.query);
        const docs = docsOf(req.json);
        return json({
          model: req.json?.model,
          usage: { total_tokens: docs.length * 3, prompt_tokens: docs.length * 3 },
          // Document order, not score order: the gateway sorts.
          results: docs.map((text, index) => ({
            index,
            document: { text },
            relevance_score: scoreOf(query, text, index),
          })),
        });
      },
      [`POST ${LOCALAI_PATHS.tts}`]: (req, ctx) => openaiSpeech(req, ctx, "localai"),
      [`POST ${LOCALAI_PATHS.stt}`]: async (req) => {
        const format = req.form?.get("response_format") ?? "json";
        if (format !== "json") return openaiTranscription(req, "localai");
        const { text } = await openaiTranscription(req, "localai").json();
        return json({ segments: [{ id: 0, start: 0, end: 1e9, text, tokens: [1, 2] }], text });
      },
      [`POST ${LOCALAI_PATHS.imgGen}`]: (req) => openaiImages(req, "localai"),
      [`GET ${LOCALAI_PATHS.probe}`]: () => new Response("OK"),
    },
  });
}
