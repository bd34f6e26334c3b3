/**
 * The Ollama native dialect: `POST /api/chat`, `/api/generate` (→ chat completions) and
 * `/api/embed` (→ embeddings), with NDJSON streaming, so Ollama clients can reach any backend.
 * `GET /api/tags` and `/api/ps` are answered by the gateway from its model list
 * ({@linkcode ollamaTags}, {@linkcode ollamaPs}).
 *
 * @module
 */

import { nativeOllama } from "./native.ts";
import {
  type OllamaCtx,
  translateOllamaChat,
  translateOllamaEmbed,
  translateOllamaGenerate,
} from "./ollama_request.ts";
import { ollamaErrorBody, toOllamaAnswer, toOllamaEmbed } from "./ollama_response.ts";
import { createOllamaStream } from "./ollama_stream.ts";
import { defineDialect } from "./define.ts";
import type { Json } from "./request_body.ts";
import { createSseTranslator } from "./sse_reader.ts";
import type { Dialect, DialectEnv } from "./types.ts";
import type { ServiceKind } from "../types.ts";

export { type ListedModel, ollamaPs, ollamaTags } from "./ollama_list.ts";
export type { OllamaCtx } from "./ollama_request.ts";

/** The content type of Ollama's streams. */
export const NDJSON_CONTENT_TYPE = "application/x-ndjson";

type Translate = (bytes: Uint8Array, env: DialectEnv) => { body: Json; ctx: OllamaCtx };

function endpoint(
  route: string,
  service: ServiceKind,
  upstreamRoute: string,
  read: Translate,
  toResponse: (openai: unknown, ctx: OllamaCtx) => unknown,
): Dialect<OllamaCtx> {
  return defineDialect({
    name: "ollama",
    route,
    service,
    upstreamRoute,
    contentType: "application/json; charset=utf-8",
    streamContentType: NDJSON_CONTENT_TYPE,
    read,
    toResponse,
    streamTransformer: createOllamaStream,
    errorBody: ollamaErrorBody,
    native: nativeOllama(route),
  });
}

/**
 * `POST /api/chat` → `POST /v1/chat/completions`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ollamaChatDialect } from "./ollama.ts";
 * const env = { clock: () => 0, randomId: () => "x" };
 * const ok = ollamaChatDialect.parseRequest(
 *   new TextEncoder().encode('{"model":"m","messages":[{"role":"user","content":"hi"}]}'), env);
 * assert(ok.ok && ok.stream, "Ollama streams unless told otherwise");
 * ```
 */
export const ollamaChatDialect: Dialect<OllamaCtx> = endpoint(
  "/api/chat",
  "chat",
  "/v1/chat/completions",
  translateOllamaChat,
  toOllamaAnswer,
);

/** `POST /api/generate` → `POST /v1/chat/completions` (the prompt as one user message). */
export const ollamaGenerateDialect: Dialect<OllamaCtx> = endpoint(
  "/api/generate",
  "chat",
  "/v1/chat/completions",
  translateOllamaGenerate,
  toOllamaAnswer,
);

/** `POST /api/embed` → `POST /v1/embeddings`. It never streams. */
export const ollamaEmbedDialect: Dialect<OllamaCtx> = {
  ...endpoint("/api/embed", "embedding", "/v1/embeddings", translateOllamaEmbed, toOllamaEmbed),
  streamTransformer: () =>
    createSseTranslator({
      chunk: () => "",
      done: () => "",
      error: (m) => `${JSON.stringify({ error: m })}\n`,
      end: () => `${JSON.stringify({ error: "Embeddings are not streamed." })}\n`,
    }),
};
