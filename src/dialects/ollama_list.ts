/**
 * `GET /api/tags` and `GET /api/ps` answers built from the gateway's own model list, so Ollama
 * clients (Open WebUI, the `ollama` libraries) can discover the models behind the gateway. Field
 * names from Ollama's `api/types.go` (`ListModelResponse`, `ProcessModelResponse`,
 * `ModelDetails`). The gateway has no model files: `size`, `digest` and the details it cannot
 * know are empty or 0, never invented.
 *
 * @module
 */

import type { Json } from "./request_body.ts";

/** What the gateway knows of one model it serves. */
export interface ListedModel {
  /** The public model name. */
  readonly name: string;
  /** The model family, when the configuration says it (e.g. `qwen3`). */
  readonly family?: string;
  /** The context length, when known. */
  readonly contextLength?: number;
}

function details(m: ListedModel): Json {
  const out: Json = {
    parent_model: "",
    format: "",
    family: m.family ?? "",
    families: m.family ? [m.family] : null,
    parameter_size: "",
    quantization_level: "",
  };
  if (m.contextLength !== undefined) out.context_length = m.contextLength;
  return out;
}

/**
 * The `/api/tags` body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ollamaTags } from "./ollama_list.ts";
 * const body = ollamaTags([{ name: "qwen3:8b" }], 0) as { models: { name: string; model: string }[] };
 * assert.equal(body.models[0].name, "qwen3:8b");
 * assert.equal(body.models[0].model, "qwen3:8b");
 * ```
 */
export function ollamaTags(models: readonly ListedModel[], modifiedAtMs: number): Json {
  const modified = new Date(modifiedAtMs).toISOString();
  return {
    models: models.map((m) => ({
      name: m.name,
      model: m.name,
      modified_at: modified,
      size: 0,
      digest: "",
      details: details(m),
    })),
  };
}

/**
 * The `/api/ps` body: the models the gateway can serve now (those with a healthy instance, as the
 * caller decides), each reported as loaded until `expiresAtMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ollamaPs } from "./ollama_list.ts";
 * const body = ollamaPs([{ name: "m", contextLength: 4096 }], 0) as { models: { context_length: number }[] };
 * assert.equal(body.models[0].context_length, 4096);
 * ```
 */
export function ollamaPs(models: readonly ListedModel[], expiresAtMs: number): Json {
  const expires = new Date(expiresAtMs).toISOString();
  return {
    models: models.map((m) => ({
      name: m.name,
      model: m.name,
      size: 0,
      digest: "",
      details: details(m),
      expires_at: expires,
      size_vram: 0,
      context_length: m.contextLength ?? 0,
    })),
  };
}
