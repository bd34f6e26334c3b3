/**
 * Ollama's `GET /api/ps`: the models loaded in memory. Ollama exports no queue, so its reading
 * carries residency only: an instance whose model is loaded answers at once, one that must load
 * it first takes seconds.
 *
 * Shape (ollama/ollama `api/types.go`, `ProcessResponse` / `ProcessModelResponse`):
 * `{"models":[{"name","model","size","digest","details","expires_at","size_vram","context_length"}]}`.
 *
 * @module
 */

import type { EngineReading } from "./engines.ts";

/** Most model names kept from one answer. */
export const MAX_MODELS = 256;

/**
 * Ollama's canonical form of a model name: a name without a tag means `:latest`. The tag is what
 * follows the last `:` after the last `/`, so `host:5000/llama3` still gets `:latest`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ollamaModelName } from "./ollama_ps.ts";
 *
 * assert.equal(ollamaModelName("llama3"), "llama3:latest");
 * assert.equal(ollamaModelName("qwen2.5:7b"), "qwen2.5:7b");
 * assert.equal(ollamaModelName("registry:5000/llama3"), "registry:5000/llama3:latest");
 * ```
 */
export function ollamaModelName(name: string): string {
  const trimmed = name.trim();
  return trimmed.lastIndexOf(":") > trimmed.lastIndexOf("/") ? trimmed : `${trimmed}:latest`;
}

/**
 * Reads a parsed `/api/ps` body; `undefined` when it is not that shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readOllamaPs } from "./ollama_ps.ts";
 *
 * const reading = readOllamaPs({ models: [{ name: "llama3:latest", model: "llama3:latest" }] });
 * assert.deepEqual(reading, { models: ["llama3:latest"] });
 * assert.equal(readOllamaPs({ error: "nope" }), undefined);
 * ```
 */
export function readOllamaPs(body: unknown): EngineReading | undefined {
  const list = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(list)) return undefined;
  const models = new Set<string>();
  for (const m of list) {
    if (models.size >= MAX_MODELS) break;
    const entry = m as { name?: unknown; model?: unknown } | null;
    for (const n of [entry?.name, entry?.model]) {
      if (typeof n === "string" && n.trim() !== "") models.add(ollamaModelName(n));
    }
  }
  return { models: [...models] };
}

/**
 * Whether `model` (as the instance is configured) is among the loaded `models`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isResident } from "./ollama_ps.ts";
 *
 * assert.equal(isResident(["llama3:latest"], "llama3"), true);
 * assert.equal(isResident(["llama3:latest"], "qwen2.5:7b"), false);
 * ```
 */
export function isResident(models: readonly string[], model: string): boolean {
  return models.includes(ollamaModelName(model));
}
