/**
 * A fake llama.cpp server (`llama-server`, tools/server/README.md): OpenAI chat, completions and
 * embeddings (base64 honoured), `/v1/rerank` whose results carry no documents, and
 * `GET /health` → `{"status":"ok"}`.
 *
 * @module
 */

import { LLAMACPP_PATHS } from "../../../src/adapters/mod.ts";
import { type DialectFake, json, serveDialect } from "./server.ts";
import { docsOf, openaiChat, openaiCompletion, openaiEmbeddings, scoreOf } from "./shapes.ts";

/** Starts the fake llama.cpp server. */
export function startLlamacpp(): DialectFake {
  return serveDialect({
    name: "llamacpp",
    notFound: () => json({ error: { code: 404, message: "File Not Found", type: "not_found_error" } }, 404),
    routes: {
      [`POST ${LLAMACPP_PATHS.chat}`]: (req, ctx) => openaiChat(req, ctx, "fp_llamacpp"),
      [`POST ${LLAMACPP_PATHS.completions}`]: (req) => openaiCompletion(req, "fp_llamacpp"),
      [`POST ${LLAMACPP_PATHS.embedding}`]: (req) => openaiEmbeddings(req),
      [`POST ${LLAMACPP_PATHS.rerank}`]: (req) => {
        const query = String(req.json?.query);
        const docs = docsOf(req.json);
        return json({
          model: req.json?.model,
          object: "list",
          usage: { prompt_tokens: docs.length * 6, total_tokens: docs.length * 6 },
          results: docs.map((text, index) => ({ index, relevance_score: scoreOf(query, text, index) })),
        });
      },
      [`GET ${LLAMACPP_PATHS.probe}`]: () => json({ status: "ok" }),
    },
  });
}
