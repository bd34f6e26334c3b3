/**
 * The OpenAI endpoints the gateway serves, the service kind each maps to, the body each takes,
 * and JAiRouter's per-service status paths.
 *
 * @module
 */

import type { DialectName } from "../dialects/types.ts";
import type { ServiceKind } from "../types.ts";
import type { BodyKind } from "./body.ts";

/** One proxied endpoint. */
export interface ProxyRoute {
  readonly path: string;
  readonly service: ServiceKind;
  readonly body: BodyKind;
  /** The client dialect of the route (absent: OpenAI). */
  readonly dialect?: DialectName;
}

/** Every proxied endpoint (OpenAI API reference paths). */
export const PROXY_ROUTES: readonly ProxyRoute[] = [
  { path: "/v1/chat/completions", service: "chat", body: "json" },
  { path: "/v1/completions", service: "chat", body: "json" },
  { path: "/v1/embeddings", service: "embedding", body: "json" },
  { path: "/v1/rerank", service: "rerank", body: "json" },
  { path: "/v1/audio/speech", service: "tts", body: "json" },
  { path: "/v1/audio/transcriptions", service: "stt", body: "multipart" },
  // Speech in any language to English text: the speech-to-text models (Whisper) do both.
  { path: "/v1/audio/translations", service: "stt", body: "multipart" },
  { path: "/v1/images/generations", service: "imgGen", body: "json" },
  { path: "/v1/images/edits", service: "imgEdit", body: "json-or-multipart" },
  // Variations of an uploaded image: image-to-image, like edits, on the same instances.
  { path: "/v1/images/variations", service: "imgEdit", body: "multipart" },
  // Moderation is a chat model's job (Llama Guard, Qwen3Guard…): LocalAI serves it with one.
  { path: "/v1/moderations", service: "chat", body: "json" },
];

/** JAiRouter's status endpoints, one per service. */
export const STATUS_ROUTES: Readonly<Record<ServiceKind, string>> = {
  chat: "/v1/chat/status",
  embedding: "/v1/embeddings/status",
  rerank: "/v1/rerank/status",
  tts: "/v1/audio/speech/status",
  stt: "/v1/audio/transcriptions/status",
  imgGen: "/v1/images/generations/status",
  imgEdit: "/v1/images/edits/status",
};
