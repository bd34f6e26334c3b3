/**
 * The OpenAI endpoints the gateway serves, the service kind each maps to, the body each takes,
 * and JAiRouter's per-service status paths.
 *
 * @module
 */

import type { ServiceKind } from "../types.ts";
import type { BodyKind } from "./body.ts";

/** One proxied endpoint. */
export interface ProxyRoute {
  readonly path: string;
  readonly service: ServiceKind;
  readonly body: BodyKind;
}

/** Every proxied endpoint (OpenAI API reference paths). */
export const PROXY_ROUTES: readonly ProxyRoute[] = [
  { path: "/v1/chat/completions", service: "chat", body: "json" },
  { path: "/v1/completions", service: "chat", body: "json" },
  { path: "/v1/embeddings", service: "embedding", body: "json" },
  { path: "/v1/rerank", service: "rerank", body: "json" },
  { path: "/v1/audio/speech", service: "tts", body: "json" },
  { path: "/v1/audio/transcriptions", service: "stt", body: "multipart" },
  { path: "/v1/images/generations", service: "imgGen", body: "json" },
  { path: "/v1/images/edits", service: "imgEdit", body: "json-or-multipart" },
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
