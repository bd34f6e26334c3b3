/**
 * Ollama's two native embedding routes, translated from and to OpenAI's embeddings API
 * (checked against ollama/ollama `api/types.go` and `server/routes.go` at commit
 * fb30760996871fa9460115c753afd2c60d4ab0f7, 2026-08-21):
 *
 * - `POST /api/embed` (`EmbedRequest {model, input, truncate, dimensions, keep_alive, options}` →
 *   `{model, embeddings: [][]float32, prompt_eval_count}`): batches, L2-normalised vectors.
 * - `POST /api/embeddings`, the legacy route JAiRouter's own `services.yml` configures as an
 *   instance `path` (`EmbeddingRequest {model, prompt, keep_alive, options}` → `{embedding:
 *   []float64}`): one text per request, vectors as the model gives them, no token count. Ollama's
 *   Go binding ignores fields it does not know, so an untranslated OpenAI body (`input`) reaches
 *   it as an empty prompt and comes back as an empty vector: the body must be translated. The
 *   route is honoured as configured — vectors stay exactly what that route gives, so indexes built
 *   through it stay valid — and what it cannot do (batches, `dimensions`) is a clear 400.
 *
 * @module
 */

import { BadRequestError } from "../errors.ts";
import type { AdapterInput, UpstreamCall } from "../types.ts";
import { requireJson } from "./body.ts";
import { sendJson } from "./compat.ts";
import { readEmbeddingRequest, toEmbeddingList } from "./embeddings.ts";
import type { AuthStyle } from "./headers.ts";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * OpenAI embeddings → `/api/embed`, and its answer back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toOllamaEmbed } from "./ollama_embed.ts";
 * import { HeaderList } from "../header_list.ts";
 * const value = { model: "nomic-embed-text", input: ["a", "b"] };
 * const call = toOllamaEmbed({
 *   service: "embedding", route: "/v1/embeddings", stream: false, headers: new HeaderList(),
 *   target: { baseUrl: "http://127.0.0.1:11434", headers: {} },
 *   body: { kind: "json", bytes: new TextEncoder().encode(JSON.stringify(value)), value },
 * }, "/api/embed");
 * assert.equal(call.url, "http://127.0.0.1:11434/api/embed");
 * ```
 */
export function toOllamaEmbed(input: AdapterInput, path: string, auth?: AuthStyle): UpstreamCall {
  const req = readEmbeddingRequest(requireJson(input.body, "embeddings").value, "Ollama");
  const body = { ...req.rest, model: req.model, input: req.single ? req.texts[0] : req.texts };
  return {
    ...sendJson(input, path, body, auth),
    mapJson(up) {
      const r = isRecord(up) ? up : {};
      const tokens = typeof r.prompt_eval_count === "number" ? r.prompt_eval_count : 0;
      return toEmbeddingList(r.embeddings, req, tokens, typeof r.model === "string" ? r.model : req.model);
    },
  };
}

/**
 * OpenAI embeddings of one text → legacy `/api/embeddings` (`prompt`), and its answer back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toOllamaLegacyEmbeddings } from "./ollama_embed.ts";
 * import { HeaderList } from "../header_list.ts";
 * const value = { model: "shaw/dmeta-embedding-zh:latest", input: "你好" };
 * const call = toOllamaLegacyEmbeddings({
 *   service: "embedding", route: "/v1/embeddings", stream: false, headers: new HeaderList(),
 *   target: { baseUrl: "http://127.0.0.1:11434", headers: {} },
 *   body: { kind: "json", bytes: new TextEncoder().encode(JSON.stringify(value)), value },
 * }, "/api/embeddings");
 * assert.deepEqual(JSON.parse(new TextDecoder().decode(call.body as Uint8Array)), {
 *   model: "shaw/dmeta-embedding-zh:latest",
 *   prompt: "你好",
 * });
 * const list = call.mapJson!({ embedding: [0.5, 1] }) as { data: { embedding: number[] }[] };
 * assert.deepEqual(list.data[0].embedding, [0.5, 1]);
 * ```
 */
export function toOllamaLegacyEmbeddings(input: AdapterInput, path: string, auth?: AuthStyle): UpstreamCall {
  const req = readEmbeddingRequest(requireJson(input.body, "embeddings").value, "Ollama");
  if (req.texts.length !== 1) {
    throw new BadRequestError(
      `This instance uses Ollama's legacy /api/embeddings, which embeds one text per request; received ` +
        `${req.texts.length}. Send one text, or set the instance's path to /api/embed (or remove it) for batches.`,
      "invalid_request",
      "input",
    );
  }
  const { dimensions, user: _user, ...rest } = req.rest;
  if (dimensions !== undefined) {
    throw new BadRequestError(
      `This instance uses Ollama's legacy /api/embeddings, which cannot shorten vectors ("dimensions"); ` +
        `set the instance's path to /api/embed (or remove it).`,
      "invalid_request",
      "dimensions",
    );
  }
  const body = { ...rest, model: req.model, prompt: req.texts[0] };
  return {
    ...sendJson(input, path, body, auth),
    mapJson(up) {
      const vector = isRecord(up) ? up.embedding : undefined;
      // No token count on this route: usage is reported as 0 rather than guessed.
      return toEmbeddingList(vector === undefined ? undefined : [vector], req, 0);
    },
  };
}
