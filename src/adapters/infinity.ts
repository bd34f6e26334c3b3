/**
 * Infinity (michaelfeil/infinity) adapter: OpenAI-shaped `/embeddings` and a Cohere-like
 * `/rerank` at the server root (its default `--url-prefix` is empty; set the instance `path` for
 * `/v1/...`). Rerank answers under `data` with string documents; both are normalised. Documents
 * must be strings there. Probe: `GET /health`.
 *
 * @module
 */

import type { Adapter } from "../types.ts";
import { createCompatAdapter } from "./compat.ts";

/** Paths an Infinity server serves, for adapters and fake upstreams. */
export const INFINITY_PATHS: Readonly<Record<"embedding" | "rerank" | "probe", string>> = Object.freeze({
  embedding: "/embeddings",
  rerank: "/rerank",
  probe: "/health",
});

/**
 * The Infinity adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { infinityAdapter } from "./infinity.ts";
 * const probe = infinityAdapter.probe("embedding", { baseUrl: "http://127.0.0.1:7997", headers: {} });
 * assert(probe.url === "http://127.0.0.1:7997/health");
 * ```
 */
export const infinityAdapter: Adapter = createCompatAdapter({
  name: "infinity",
  label: "Infinity",
  paths: { embedding: INFINITY_PATHS.embedding, rerank: INFINITY_PATHS.rerank },
  completionsPath: null,
  probePath: INFINITY_PATHS.probe,
});
