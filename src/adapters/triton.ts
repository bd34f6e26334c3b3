/**
 * NVIDIA Triton OpenAI-compatible frontend / TensorRT-LLM `trtllm-serve` adapter: chat, legacy
 * completions and embeddings on the OpenAI routes, forwarded untouched. Probe: `GET /v1/models`,
 * which both servers answer without running a model.
 *
 * @module
 */

import type { Adapter } from "../types.ts";
import { createCompatAdapter } from "./compat.ts";

/** Paths a Triton/TensorRT-LLM OpenAI frontend serves, for adapters and fake upstreams. */
export const TRITON_PATHS: Readonly<Record<"chat" | "completions" | "embedding" | "probe", string>> = Object
  .freeze({
    chat: "/v1/chat/completions",
    completions: "/v1/completions",
    embedding: "/v1/embeddings",
    probe: "/v1/models",
  });

/**
 * The Triton adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tritonAdapter } from "./triton.ts";
 * const probe = tritonAdapter.probe("chat", { baseUrl: "http://127.0.0.1:9000", headers: {} });
 * assert(probe.url === "http://127.0.0.1:9000/v1/models");
 * ```
 */
export const tritonAdapter: Adapter = createCompatAdapter({
  name: "triton",
  acceptsStreamOptions: true,
  label: "Triton",
  paths: { chat: TRITON_PATHS.chat, embedding: TRITON_PATHS.embedding },
  completionsPath: TRITON_PATHS.completions,
  probePath: TRITON_PATHS.probe,
  // The OpenAI frontend serves Triton's metrics on its own port; plain tritonserver on :8002 (set `url`).
  loadSource: { path: "/metrics", parser: "triton" },
});
