/**
 * GPUStack adapter. GPUStack serves OpenAI-compatible routes under `/v1-openai/...` (newer
 * releases also under `/v1/...`; an instance `path` selects those) and a Jina-compatible rerank
 * at `/v1/rerank` (GPUStack docs, "OpenAI Compatible APIs" and "Rerank API"). Audio goes to its
 * vox-box workers through the same OpenAI routes. Probe: `GET /v1-openai/models` with the key.
 *
 * @module
 */

import type { Adapter } from "../types.ts";
import { createCompatAdapter } from "./compat.ts";

/** Paths a GPUStack server serves, for adapters and fake upstreams. */
export const GPUSTACK_PATHS: Readonly<
  Record<
    "chat" | "completions" | "embedding" | "rerank" | "tts" | "stt" | "imgGen" | "imgEdit" | "probe",
    string
  >
> = Object.freeze({
  chat: "/v1-openai/chat/completions",
  completions: "/v1-openai/completions",
  embedding: "/v1-openai/embeddings",
  rerank: "/v1/rerank",
  tts: "/v1-openai/audio/speech",
  stt: "/v1-openai/audio/transcriptions",
  imgGen: "/v1-openai/images/generations",
  imgEdit: "/v1-openai/images/edits",
  probe: "/v1-openai/models",
});

/**
 * The GPUStack adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gpustackAdapter } from "./gpustack.ts";
 * import { HeaderList } from "../header_list.ts";
 * const value = { model: "qwen3", messages: [] };
 * const call = gpustackAdapter.prepare({
 *   service: "chat", route: "/v1/chat/completions", stream: false, headers: new HeaderList(),
 *   target: { baseUrl: "http://127.0.0.1:9090", apiKey: "gpustack_key", headers: {} },
 *   body: { kind: "json", bytes: new TextEncoder().encode(JSON.stringify(value)), value },
 * });
 * assert(call.url === "http://127.0.0.1:9090/v1-openai/chat/completions");
 * ```
 */
export const gpustackAdapter: Adapter = createCompatAdapter({
  name: "gpustack",
  label: "GPUStack",
  paths: {
    chat: GPUSTACK_PATHS.chat,
    embedding: GPUSTACK_PATHS.embedding,
    rerank: GPUSTACK_PATHS.rerank,
    tts: GPUSTACK_PATHS.tts,
    stt: GPUSTACK_PATHS.stt,
    imgGen: GPUSTACK_PATHS.imgGen,
    imgEdit: GPUSTACK_PATHS.imgEdit,
  },
  completionsPath: GPUSTACK_PATHS.completions,
  probePath: GPUSTACK_PATHS.probe,
  // gpustack/gateway/utils.py routes these to the workers under `/v1` only (no `/v1-openai`).
  extraPaths: {
    "/v1/audio/translations": "/v1/audio/translations",
    "/v1/images/variations": "/v1/images/variations",
    "/v1/moderations": "/v1/moderations",
  },
});
