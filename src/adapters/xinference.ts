/**
 * Xorbits Inference (Xinference) adapter: OpenAI-compatible `/v1/...` routes. Its rerank answers
 * in the Cohere shape with token counts under `meta.tokens` (normalised to `usage`) and takes
 * plain-string documents. Its Whisper transcriptions produce `json` and `verbose_json` only; its
 * TTS models produce OpenAI's audio formats. Probe: `GET /v1/models`.
 *
 * @module
 */

import type { Adapter, ServiceKind } from "../types.ts";
import { OPENAI_TTS_FORMATS } from "./audio.ts";
import { createCompatAdapter } from "./compat.ts";
import { OPENAI_PATHS } from "./url.ts";

/** Paths an Xinference server serves, for adapters and fake upstreams. */
export const XINFERENCE_PATHS: Readonly<Record<ServiceKind | "completions" | "probe", string>> = Object
  .freeze({
    ...OPENAI_PATHS,
    completions: "/v1/completions",
    probe: "/v1/models",
  });

/** Transcription formats Xinference's Whisper models produce (anything else raises there). */
export const XINFERENCE_STT_FORMATS: readonly string[] = ["json", "verbose_json"];

/**
 * The Xinference adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { xinferenceAdapter } from "./xinference.ts";
 * const probe = xinferenceAdapter.probe("rerank", { baseUrl: "http://127.0.0.1:9997", headers: {} });
 * assert(probe.url === "http://127.0.0.1:9997/v1/models");
 * ```
 */
export const xinferenceAdapter: Adapter = createCompatAdapter({
  name: "xinference",
  label: "Xinference",
  paths: OPENAI_PATHS,
  completionsPath: XINFERENCE_PATHS.completions,
  probePath: XINFERENCE_PATHS.probe,
  ttsFormats: OPENAI_TTS_FORMATS,
  sttFormats: XINFERENCE_STT_FORMATS,
  // xinference/api/routers/audio.py and images.py (no moderations)
  extraPaths: {
    "/v1/audio/translations": "/v1/audio/translations",
    "/v1/images/variations": "/v1/images/variations",
  },
});
