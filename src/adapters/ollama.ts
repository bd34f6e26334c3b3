/**
 * Ollama adapter. Chat, legacy completions, transcription and image generation use Ollama's
 * OpenAI-compatible `/v1/...` routes untouched. Embeddings go to the native `/api/embed`
 * (batching, `dimensions`, `truncate`) with request and response translated; an instance whose
 * `path` is the legacy `/api/embeddings` (JAiRouter's own example) gets that route's `prompt`
 * body ({@linkcode toOllamaLegacyEmbeddings}). An instance whose `path` is `/api/chat` gets native
 * chat with NDJSON → SSE translation; a configured `/v1/embeddings` is forwarded as is.
 *
 * What current Ollama serves (ollama/ollama `server/routes.go` at commit
 * fb30760996871fa9460115c753afd2c60d4ab0f7, v0.33 line, 2026-08-21):
 * - `/v1/audio/transcriptions` (since v0.20.0): multipart in, `{text}` out, or plain text for
 *   `response_format: text`; every other format would also come back as `{text}`, so only `json`
 *   and `text` are accepted.
 * - No `/v1/images/*`: v0.15.0–v0.32.5 had `/v1/images/generations` and a JSON-only (base64)
 *   `/v1/images/edits`; v0.32.6 removed both (commit 4713800b08b2, "imagegen: remove MLX image
 *   generation code"). Generation keeps its default path for servers of those releases (an image
 *   model cannot be configured on newer ones anyway); image edits stay refused, since OpenAI clients
 *   send multipart, which no Ollama release accepted.
 *
 * @module
 */

import type { Adapter, UpstreamCall } from "../types.ts";
import { requireJson } from "./body.ts";
import { createCompatAdapter, forward, sendJson } from "./compat.ts";
import { toOllamaChat, wantsStreamUsage } from "./ollama_chat.ts";
import { toOllamaEmbed, toOllamaLegacyEmbeddings } from "./ollama_embed.ts";
import { createOllamaChatStream, ollamaChatToOpenAI } from "./ollama_response.ts";
import { SSE_CONTENT_TYPE } from "./sse.ts";
import { COMPLETIONS_ROUTE, pathEndsWith } from "./url.ts";

/** Paths an Ollama server serves, for adapters and fake upstreams. */
export const OLLAMA_PATHS: Readonly<
  Record<
    "chat" | "completions" | "embed" | "legacyEmbeddings" | "stt" | "imgGen" | "nativeChat" | "probe",
    string
  >
> = Object.freeze({
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embed: "/api/embed",
  legacyEmbeddings: "/api/embeddings",
  stt: "/v1/audio/transcriptions",
  imgGen: "/v1/images/generations",
  nativeChat: "/api/chat",
  probe: "/api/tags",
});

/** Transcription formats Ollama produces (`text` as plain text, anything else as `{text}`). */
export const OLLAMA_STT_FORMATS: readonly string[] = ["json", "text"];

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
  acceptsStreamOptions: true,
  label: "Ollama",
  paths: {
    chat: OLLAMA_PATHS.chat,
    embedding: OLLAMA_PATHS.embed,
    stt: OLLAMA_PATHS.stt,
    imgGen: OLLAMA_PATHS.imgGen,
  },
  completionsPath: OLLAMA_PATHS.completions,
  probePath: OLLAMA_PATHS.probe,
  sttFormats: OLLAMA_STT_FORMATS,
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
      if (pathEndsWith(path, OLLAMA_PATHS.legacyEmbeddings)) {
        return toOllamaLegacyEmbeddings(input, path, auth);
      }
      return pathEndsWith(path, OLLAMA_PATHS.embed) ? toOllamaEmbed(input, path, auth) : undefined;
    },
  },
});
