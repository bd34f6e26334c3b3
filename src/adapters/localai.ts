/**
 * LocalAI adapter: OpenAI-compatible `/v1/...` routes and a Jina-compatible `/v1/rerank`.
 * Its transcription JSON is its own `{segments, text}` (older releases ignore `response_format`
 * and always send it), so a client asking for `json` gets OpenAI's `{text}`; `verbose_json`,
 * `text`, `srt`, `vtt` and LocalAI's `lrc` pass through. Probe: `GET /readyz`.
 *
 * @module
 */

import type { Adapter, UpstreamCall } from "../types.ts";
import { requestedFormat } from "./audio.ts";
import { createCompatAdapter, forward } from "./compat.ts";

/** Paths a LocalAI server serves, for adapters and fake upstreams. */
export const LOCALAI_PATHS: Readonly<
  Record<"chat" | "completions" | "embedding" | "rerank" | "tts" | "stt" | "imgGen" | "probe", string>
> = Object.freeze({
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embedding: "/v1/embeddings",
  rerank: "/v1/rerank",
  tts: "/v1/audio/speech",
  stt: "/v1/audio/transcriptions",
  imgGen: "/v1/images/generations",
  probe: "/readyz",
});

/** Transcription formats LocalAI produces (`lrc` is its own extra). */
export const LOCALAI_STT_FORMATS: readonly string[] = ["json", "verbose_json", "text", "srt", "vtt", "lrc"];

/** LocalAI transcription JSON → OpenAI `json` format (`{text}`). */
function transcriptionText(up: unknown): unknown {
  if (typeof up !== "object" || up === null || Array.isArray(up)) return up;
  const text = (up as Record<string, unknown>).text;
  return { text: typeof text === "string" ? text : "" };
}

/**
 * The LocalAI adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localaiAdapter } from "./localai.ts";
 * const probe = localaiAdapter.probe("chat", { baseUrl: "http://127.0.0.1:8080", headers: {} });
 * assert(probe.url === "http://127.0.0.1:8080/readyz");
 * ```
 */
export const localaiAdapter: Adapter = createCompatAdapter({
  name: "localai",
  label: "LocalAI",
  paths: {
    chat: LOCALAI_PATHS.chat,
    embedding: LOCALAI_PATHS.embedding,
    rerank: LOCALAI_PATHS.rerank,
    tts: LOCALAI_PATHS.tts,
    stt: LOCALAI_PATHS.stt,
    imgGen: LOCALAI_PATHS.imgGen,
  },
  completionsPath: LOCALAI_PATHS.completions,
  probePath: LOCALAI_PATHS.probe,
  sttFormats: LOCALAI_STT_FORMATS,
  // core/http/routes/openai.go: moderations by a completion model (no translations, no variations)
  extraPaths: { "/v1/moderations": "/v1/moderations" },
  hooks: {
    stt(input, path, auth): UpstreamCall {
      const format = requestedFormat(input.body);
      const call = forward(input, path, auth);
      return format === undefined || format === "json" ? { ...call, mapJson: transcriptionText } : call;
    },
  },
});
