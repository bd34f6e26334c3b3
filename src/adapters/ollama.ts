/**
 * Ollama adapter. Chat, legacy completions and image generation use Ollama's OpenAI-compatible
 * `/v1/...` routes untouched. Embeddings go to the native `/api/embed` (batching, `dimensions`,
 * `truncate`) with request and response translated. An instance whose `path` is `/api/chat` gets
 * native chat with NDJSON → SSE translation; a configured `/v1/embeddings` is forwarded as is.
 *
 * @module
 */

import type { Adapter, UpstreamCall } from "../types.ts";
import { requireJson } from "./body.ts";
import { createCompatAdapter, forward, sendJson } from "./compat.ts";
import { readEmbeddingRequest, toEmbeddingList } from "./embeddings.ts";
import { toOllamaChat, wantsStreamUsage } from "./ollama_chat.ts";
import { createOllamaChatStream, ollamaChatToOpenAI } from "./ollama_response.ts";
import { SSE_CONTENT_TYPE } from "./sse.ts";
import { COMPLETIONS_ROUTE, pathEndsWith } from "./url.ts";

/** Paths an Ollama server serves, for adapters and fake upstreams. */
export const OLLAMA_PATHS: Readonly<
  Record<"chat" | "completions" | "embed" | "imgGen" | "nativeChat" | "probe", string>
> = Object.freeze({
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embed: "/api/embed",
  imgGen: "/v1/images/generations",
  nativeChat: "/api/chat",
  probe: "/api/tags",
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The Ollama adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ollamaAdapter } from "./ollama.ts";
 * import { HeaderList } from "../header_list.ts";
 * const value = { model: "nomic-embed-text", input: ["a", "b"] };
 * const call = ollamaAdapter.prepare({
 *   service: "embedding", route: "/v1/embeddings", stream: false, headers: new HeaderList(),
 *   target: { baseUrl: "http://127.0.0.1:11434", headers: {} },
 *   body: { kind: "json", bytes: new TextEncoder().encode(JSON.stringify(value)), value },
 * });
 * assert(call.url === "http://127.0.0.1:11434/api/embed" && call.mapJson !== undefined);
 * ```
 */
export const ollamaAdapter: Adapter = createCompatAdapter({
  name: "ollama",
  label: "Ollama",
  paths: { chat: OLLAMA_PATHS.chat, embedding: OLLAMA_PATHS.embed, imgGen: OLLAMA_PATHS.imgGen },
  completionsPath: OLLAMA_PATHS.completions,
  probePath: OLLAMA_PATHS.probe,
  // `GET /api/ps`: the models loaded in memory.
  loadSource: { path: "/api/ps", parser: "ollama" },
  hooks: {
    chat(input, path, auth): UpstreamCall | undefined {
      if (!pathEndsWith(path, OLLAMA_PATHS.nativeChat)) return undefined;
      // Native chat has no legacy-completions twin: those go to the OpenAI route.
      if (input.route === COMPLETIONS_ROUTE) return forward(input, OLLAMA_PATHS.completions, auth);
      const { value } = requireJson(input.body, "chat completions");
      const ctx = {
        model: typeof value.model === "string" ? value.model : "",
        includeUsage: wantsStreamUsage(value),
      };
      const call = sendJson(input, path, toOllamaChat(value, input.stream), auth);
      return input.stream
        ? { ...call, mapStream: () => createOllamaChatStream(ctx), streamContentType: SSE_CONTENT_TYPE }
        : { ...call, mapJson: (up) => ollamaChatToOpenAI(up, ctx) };
    },
    embedding(input, path, auth): UpstreamCall | undefined {
      if (!pathEndsWith(path, OLLAMA_PATHS.embed)) return undefined;
      const req = readEmbeddingRequest(requireJson(input.body, "embeddings").value, "Ollama");
      const body = { ...req.rest, model: req.model, input: req.single ? req.texts[0] : req.texts };
      return {
        ...sendJson(input, path, body, auth),
        mapJson(up) {
          const r = isRecord(up) ? up : {};
          const tokens = typeof r.prompt_eval_count === "number" ? r.prompt_eval_count : 0;
          return toEmbeddingList(
            r.embeddings,
            req,
            tokens,
            typeof r.model === "string" ? r.model : req.model,
          );
        },
      };
    },
  },
});
