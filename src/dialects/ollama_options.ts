/**
 * Ollama's `options`, `format` and `images` → OpenAI chat fields (Ollama `api/types.go`:
 * `Options`, `Runner`; `docs/api.md` "Generate a completion"). Sampling options map to their
 * OpenAI names; the runner options that size a model load on Ollama's own GPU (`num_ctx`,
 * `num_gpu`, …) have no meaning for a remote backend and are ignored; the rest are refused,
 * because the backends name them differently and a silent drop would change the answer.
 *
 * @module
 */

import { isRecord, type Json, refuse } from "./request_body.ts";

/** Ollama option → OpenAI chat field (`top_k` and `min_p` are vLLM / llama.cpp extras). */
export const OPTION_FIELDS: Readonly<Record<string, string>> = {
  temperature: "temperature",
  top_p: "top_p",
  top_k: "top_k",
  min_p: "min_p",
  seed: "seed",
  stop: "stop",
  num_predict: "max_tokens",
  frequency_penalty: "frequency_penalty",
  presence_penalty: "presence_penalty",
};

/** Options that size Ollama's own model load: accepted and ignored. */
export const RUNNER_OPTIONS: ReadonlySet<string> = new Set([
  "num_ctx",
  "num_batch",
  "num_gpu",
  "main_gpu",
  "use_mmap",
  "num_thread",
  "num_keep",
  "low_vram",
  "numa",
  "draft_num_predict",
]);

/** Copies `options` into `out` under their OpenAI names. */
export function applyOptions(options: unknown, out: Json): void {
  if (options === undefined || options === null) return;
  if (!isRecord(options)) refuse('"options" must be an object.', "options");
  for (const key in options) {
    const value = options[key];
    if (value === null || value === undefined || RUNNER_OPTIONS.has(key)) continue;
    const field = Object.hasOwn(OPTION_FIELDS, key) ? OPTION_FIELDS[key] : undefined;
    if (!field) {
      refuse(
        `options.${key} is not supported here: only ${Object.keys(OPTION_FIELDS).join(", ")} are translated.`,
        "options",
      );
    }
    // Ollama's num_predict -1 (no limit) and -2 (fill the context) mean "no max_tokens".
    if (key === "num_predict" && typeof value === "number" && value < 0) continue;
    out[field] = value;
  }
}

/** `format: "json"` or a JSON schema → `response_format`. */
export function applyFormat(format: unknown, out: Json): void {
  if (format === undefined || format === null || format === "") return;
  if (format === "json") out.response_format = { type: "json_object" };
  else if (isRecord(format)) {
    out.response_format = { type: "json_schema", json_schema: { name: "output", schema: format } };
  } else refuse('"format" must be "json" or a JSON schema object.', "format");
}

/** The media type of base64 image data, from its first bytes (Ollama sends bare base64). */
function mediaType(data: string): string {
  if (data.startsWith("/9j/")) return "image/jpeg";
  if (data.startsWith("R0lGOD")) return "image/gif";
  if (data.startsWith("UklGR")) return "image/webp";
  return "image/png";
}

/**
 * Text plus Ollama `images` (bare base64) → OpenAI content: the text alone, or parts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withImages } from "./ollama_options.ts";
 * assert.equal(withImages("hi", undefined, "messages"), "hi");
 * assert.deepEqual(withImages("hi", ["/9j/4AAQ"], "messages"), [
 *   { type: "text", text: "hi" },
 *   { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
 * ]);
 * ```
 */
export function withImages(text: string, images: unknown, param: string): string | Json[] {
  if (images === undefined || images === null) return text;
  if (!Array.isArray(images) || !images.every((i) => typeof i === "string")) {
    refuse('"images" must be an array of base64 strings.', param);
  }
  if (images.length === 0) return text;
  const parts: Json[] = text === "" ? [] : [{ type: "text", text }];
  for (const data of images) {
    parts.push({ type: "image_url", image_url: { url: `data:${mediaType(data)};base64,${data}` } });
  }
  return parts;
}
