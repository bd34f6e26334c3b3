/**
 * A fake Hugging Face text-embeddings-inference server (TEI OpenAPI spec): `POST /embed`
 * (`{inputs}` → bare `[[...]]`), `POST /rerank` (`{query, texts, return_text}` → bare
 * `[{index, score, text?}]` sorted by score), its OpenAI route `/v1/embeddings`, and
 * `GET /health` (200, empty). Errors are `{error, error_type}` with 422 for bad input.
 *
 * @module
 */

import { TEI_PATHS } from "../../../src/adapters/mod.ts";
import { type DialectFake, json, serveDialect } from "./server.ts";
import { docsOf, openaiEmbeddings, scoreOf, vectorOf } from "./shapes.ts";

/** Starts the fake TEI. */
export function startTei(): DialectFake {
  return serveDialect({
    name: "tei",
    routes: {
      [`POST ${TEI_PATHS.embed}`]: (req) => {
        const inputs = req.json?.inputs;
        if (inputs === undefined) {
          return json({ error: "missing field `inputs`", error_type: "Validation" }, 422);
        }
        const list = Array.isArray(inputs) ? inputs : [inputs];
        return json(list.map((_, i) => vectorOf(i)));
      },
      [`POST ${TEI_PATHS.rerank}`]: (req) => {
        const query = String(req.json?.query);
        if (!Array.isArray(req.json?.texts)) {
          return json({ error: "missing field `texts`", error_type: "Validation" }, 422);
        }
        const withText = req.json?.return_text === true;
        return json(
          docsOf(req.json)
            .map((text, index) => ({
              index,
              score: scoreOf(query, text, index),
              ...(withText ? { text } : {}),
            }))
            .sort((a, b) => b.score - a.score),
        );
      },
      [`POST ${TEI_PATHS.openaiEmbeddings}`]: (req) => openaiEmbeddings(req),
      [`GET ${TEI_PATHS.probe}`]: () => new Response(null, { status: 200 }),
    },
  });
}
