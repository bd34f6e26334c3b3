/**
 * llama.cpp server (`llama-server`) adapter: OpenAI-compatible chat, completions and embeddings,
 * and `/v1/rerank` (started with `--reranking`), whose results carry no documents; they are
 * filled from the request when the client asks. Probe: `GET /health` (503 while loading).
 *
 * @module
 */

import type { Adapter } from "../types.ts";
import { createCompatAdapter } from "./compat.ts";

/** Paths a llama.cpp server serves, for adapters and fake upstreams. */
export const LLAMACPP_PATHS: Readonly<
  Record<"chat" | "completions" | "embedding" | "rerank" | "probe", string>
> = Object.freeze({
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embedding: "/v1/embeddings",
  rerank: "/v1/rerank",
  probe: "/health",
});

/**
 * The llama.cpp adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { llamacppAdapter } from "./llamacpp.ts";
 * const probe = llamacppAdapter.probe("chat", { baseUrl: "http://127.0.0.1:8081/", headers: {} });
 * assert(probe.url === "http://127.0.0.1:8081/health");
 * ```
 */
export const llamacppAdapter: Adapter = createCompatAdapter({
  name: "llamacpp",
  acceptsStreamOptions: true,
  label: "llama.cpp",
  paths: {
    chat: LLAMACPP_PATHS.chat,
    embedding: LLAMACPP_PATHS.embedding,
    rerank: LLAMACPP_PATHS.rerank,
  },
  completionsPath: LLAMACPP_PATHS.completions,
  probePath: LLAMACPP_PATHS.probe,
  // Served only when llama-server runs with `--metrics`.
  loadSource: { path: "/metrics", parser: "llamacpp" },
});
