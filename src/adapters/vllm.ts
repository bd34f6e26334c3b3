/**
 * vLLM adapter: its OpenAI-compatible server, forwarded untouched, including `/v1/rerank`
 * (Jina/Cohere shape) and transcriptions. An instance whose `path` ends in `/score` gets vLLM's
 * score API: `{text_1: query, text_2: documents}` → `{data: [{index, score}]}`, normalised to
 * rerank results. No TTS or images. Probe: `GET /health`.
 *
 * @module
 */

import type { Adapter, UpstreamCall } from "../types.ts";
import { requireJson } from "./body.ts";
import { createCompatAdapter, sendJson } from "./compat.ts";
import { normaliseRerank, readRerankRequest, requireTexts } from "./rerank.ts";
import { pathEndsWith } from "./url.ts";

/** Paths a vLLM server serves, for adapters and fake upstreams. */
export const VLLM_PATHS: Readonly<
  Record<"chat" | "completions" | "embeddings" | "rerank" | "score" | "transcriptions" | "probe", string>
> = Object.freeze({
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings",
  rerank: "/v1/rerank",
  score: "/v1/score",
  transcriptions: "/v1/audio/transcriptions",
  probe: "/health",
});

/** Transcription formats vLLM produces (its serving code refuses srt/vtt). */
export const VLLM_STT_FORMATS: readonly string[] = ["json", "text", "verbose_json"];

/**
 * The vLLM adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vllmAdapter } from "./vllm.ts";
 * const probe = vllmAdapter.probe("chat", { baseUrl: "http://127.0.0.1:8000", headers: {} });
 * assert(probe.url === "http://127.0.0.1:8000/health");
 * ```
 */
export const vllmAdapter: Adapter = createCompatAdapter({
  name: "vllm",
  acceptsStreamOptions: true,
  label: "vLLM",
  paths: {
    chat: VLLM_PATHS.chat,
    embedding: VLLM_PATHS.embeddings,
    rerank: VLLM_PATHS.rerank,
    stt: VLLM_PATHS.transcriptions,
  },
  completionsPath: VLLM_PATHS.completions,
  probePath: VLLM_PATHS.probe,
  // vllm/v1/metrics/loggers.py: vllm:num_requests_waiting, …running, vllm:kv_cache_usage_perc.
  loadSource: { path: "/metrics", parser: "vllm" },
  sttFormats: VLLM_STT_FORMATS,
  // vllm/entrypoints/openai/speech_to_text/api_router.py
  extraPaths: { "/v1/audio/translations": "/v1/audio/translations" },
  hooks: {
    rerank(input, path, auth): UpstreamCall | undefined {
      if (!pathEndsWith(path, "/score")) return undefined;
      const { value } = requireJson(input.body, "rerank");
      const req = readRerankRequest(value);
      const texts = requireTexts(req, "vLLM's score API");
      const { query: _q, documents: _d, top_n: _t, return_documents: _r, ...rest } = value;
      const body = { ...rest, text_1: req.query, text_2: texts };
      return { ...sendJson(input, path, body, auth), mapJson: (up) => normaliseRerank(up, req) };
    },
  },
});
