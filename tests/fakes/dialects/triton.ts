/**
 * A fake Triton Inference Server OpenAI frontend / TensorRT-LLM `trtllm-serve` (Triton docs,
 * "OpenAI-Compatible Frontend"): chat, completions and embeddings on the OpenAI routes and
 * `GET /v1/models`. Nothing else: no rerank, audio or images.
 *
 * @module
 */

import { TRITON_PATHS } from "../../../src/adapters/mod.ts";
import { type DialectFake, json, serveDialect } from "./server.ts";
import { openaiChat, openaiCompletion, openaiEmbeddings, openaiModels } from "./shapes.ts";

/** Starts the fake Triton frontend. */
export function startTriton(): DialectFake {
  return serveDialect({
    name: "triton",
    notFound: () => json({ detail: "Not Found" }, 404),
    routes: {
      [`POST ${TRITON_PATHS.chat}`]: (req, ctx) => openaiChat(req, ctx, "fp_triton"),
      [`POST ${TRITON_PATHS.completions}`]: (req) => openaiCompletion(req, "fp_triton"),
      [`POST ${TRITON_PATHS.embedding}`]: (req) => openaiEmbeddings(req),
      [`GET ${TRITON_PATHS.probe}`]: () => openaiModels(["llama-3-8b-trtllm"], "Triton Inference Server"),
    },
  });
}
