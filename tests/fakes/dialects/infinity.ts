/**
 * A fake Infinity server (michaelfeil/infinity, default empty `--url-prefix`): OpenAI-shaped
 * `POST /embeddings` (base64 honoured), Cohere-like `POST /rerank` answering under `data` with
 * string documents, and `GET /health` → `{"unix": …}`. No chat.
 *
 * @module
 */

import { INFINITY_PATHS } from "../../../src/adapters/mod.ts";
import { type DialectFake, json, serveDialect } from "./server.ts";
import { docsOf, openaiEmbeddings, scoreOf } from "./shapes.ts";

/** Starts the fake Infinity. */
export function startInfinity(): DialectFake {
  return serveDialect({
    name: "infinity",
    notFound: () => json({ detail: "Not Found" }, 404),
    routes: {
      [`POST ${INFINITY_PATHS.embedding}`]: (req) => openaiEmbeddings(req),
      [`POST ${INFINITY_PATHS.rerank}`]: (req) => {
        const query = String(req.json?.query);
        const docs = docsOf(req.json);
        const withDocs = req.json?.return_documents === true;
        const data = docs
          .map((text, index) => ({
            relevance_score: scoreOf(query, text, index),
            index,
            document: withDocs ? text : null,
          }))
          .sort((a, b) => b.relevance_score - a.relevance_score);
        const topN = typeof req.json?.top_n === "number" ? req.json.top_n : data.length;
        return json({
          object: "rerank",
          data: data.slice(0, topN),
          model: req.json?.model,
          usage: { prompt_tokens: docs.length * 2, total_tokens: docs.length * 2 },
          id: "infinity-rerank",
          created: 1,
        });
      },
      [`GET ${INFINITY_PATHS.probe}`]: () => json({ unix: 1717243200 }),
    },
  });
}
