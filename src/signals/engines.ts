/**
 * Which Prometheus series each engine exports for its load, and how a scrape's samples become one
 * {@linkcode EngineReading}. Every name below was checked against the engine's source (file and
 * commit in `testdata/<engine>/metrics.txt`):
 *
 * | engine    | waiting                              | running                          | KV use (0..1)                                                 | model label  |
 * | --------- | ------------------------------------ | -------------------------------- | ------------------------------------------------------------- | ------------ |
 * | vLLM      | `vllm:num_requests_waiting`          | `vllm:num_requests_running`      | `vllm:kv_cache_usage_perc` (≥ 0.9), `vllm:gpu_cache_usage_perc` (older) | `model_name` |
 * | SGLang    | `sglang:num_queue_reqs`              | `sglang:num_running_reqs`        | `sglang:token_usage`                                          | `model_name` |
 * | TGI       | `tgi_queue_size`                     | `tgi_batch_current_size`         | —                                                             | —            |
 * | llama.cpp | `llamacpp:requests_deferred`         | `llamacpp:requests_processing`   | `llamacpp:kv_cache_usage_ratio` (older builds only)           | —            |
 * | Triton    | `nv_inference_pending_request_count` | —                                | —                                                             | `model`      |
 * | TEI       | `te_queue_size`                      | —                                | —                                                             | —            |
 *
 * Several series of one name are summed (vLLM's `engine` label for data-parallel engines, SGLang's
 * `dp_rank`, Triton's `version`); KV use takes the fullest cache. When the engine labels series
 * by model, only the series of the instance's model count, unless none match (one model under
 * another name): then all of them do. SGLang series of a tensor/pipeline rank other than 0 repeat
 * rank 0's queue and are skipped. Values that are not finite are ignored. A total that is not
 * finite even so (two finite series of 1e308 sum to Infinity) is no count of requests: such a
 * reading is unusable ({@linkcode unusableReading}), and the scrape that brought it fails like one
 * that brought garbage — the instance is judged as if it had no signal, never as idle.
 *
 * @module
 */

import type { LoadSourceKind } from "../types.ts";
import type { Sample } from "./prometheus.ts";

/** One engine's load as read from one scrape (not yet corrected, not judged for age). */
export interface EngineReading {
  readonly waiting?: number;
  readonly running?: number;
  /** KV-cache use in [0, 1]. */
  readonly kvUsage?: number;
  /** Models loaded in memory (Ollama `/api/ps`). */
  readonly models?: readonly string[];
}

/** How to read one Prometheus-speaking engine. */
export interface PromEngineSpec {
  /** Candidate names per field, preferred first: the first name with any sample is used. */
  readonly waiting: readonly string[];
  readonly running: readonly string[];
  readonly kv: readonly string[];
  /** The label that names the model a series belongs to, when the engine has one. */
  readonly modelLabel?: string;
  /** Series to skip (duplicates of another rank). */
  readonly skip?: (labels: Readonly<Record<string, string>>) => boolean;
}

const notRankZero = (labels: Readonly<Record<string, string>>) =>
  (labels.tp_rank !== undefined && labels.tp_rank !== "0") ||
  (labels.pp_rank !== undefined && labels.pp_rank !== "0");

/** The Prometheus-speaking engines (Ollama speaks JSON, see `ollama_ps.ts`). */
export const PROM_ENGINES: Readonly<Record<Exclude<LoadSourceKind, "ollama">, PromEngineSpec>> = Object
  .freeze({
    vllm: {
      waiting: ["vllm:num_requests_waiting"],
      running: ["vllm:num_requests_running"],
      kv: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
      modelLabel: "model_name",
    },
    sglang: {
      waiting: ["sglang:num_queue_reqs"],
      running: ["sglang:num_running_reqs"],
      kv: ["sglang:token_usage"],
      modelLabel: "model_name",
      skip: notRankZero,
    },
    tgi: { waiting: ["tgi_queue_size"], running: ["tgi_batch_current_size"], kv: [] },
    llamacpp: {
      waiting: ["llamacpp:requests_deferred"],
      running: ["llamacpp:requests_processing"],
      kv: ["llamacpp:kv_cache_usage_ratio"],
    },
    triton: { waiting: ["nv_inference_pending_request_count"], running: [], kv: [], modelLabel: "model" },
    tei: { waiting: ["te_queue_size"], running: [], kv: [] },
  });

/** Every metric name `spec` reads (what a {@linkcode PromTextReader} should keep). */
export function wantedNames(spec: PromEngineSpec): Set<string> {
  return new Set([...spec.waiting, ...spec.running, ...spec.kv]);
}

/** The samples that belong to `model` (see the module doc). */
function forModel(spec: PromEngineSpec, samples: readonly Sample[], model: string): readonly Sample[] {
  const kept = spec.skip ? samples.filter((s) => !spec.skip!(s.labels)) : samples;
  const label = spec.modelLabel;
  if (label === undefined) return kept;
  const mine = kept.filter((s) => s.labels[label] === model);
  return mine.length > 0 ? mine : kept;
}

/** Combines the samples of the first name of `names` that has any finite one. */
function combine(
  samples: readonly Sample[],
  names: readonly string[],
  how: "sum" | "max",
): number | undefined {
  for (const name of names) {
    let result: number | undefined;
    for (const s of samples) {
      if (s.name !== name || !Number.isFinite(s.value)) continue;
      const v = Math.max(0, s.value);
      result = result === undefined ? v : how === "sum" ? result + v : Math.max(result, v);
    }
    if (result !== undefined) return result;
  }
  return undefined;
}

/**
 * Why `reading` cannot be routed on, or `undefined` when it can: a queue, batch or KV use that is
 * not a finite number ≥ 0. Such values come only from totals that overflow; read on, they would
 * turn into `Infinity − Infinity = NaN` in the correction, which a strategy cannot rank.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unusableReading } from "./engines.ts";
 * assert.equal(unusableReading({ waiting: 2, running: 8 }), undefined);
 * assert.equal(unusableReading({ waiting: 0, running: Infinity }), "running is Infinity, not a finite count");
 * ```
 */
export function unusableReading(reading: EngineReading): string | undefined {
  for (const field of ["waiting", "running", "kvUsage"] as const) {
    const v = reading[field];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) return `${field} is ${v}, not a finite count`;
  }
  return undefined;
}

/**
 * Turns a scrape's samples into a reading for the instance serving `model`; `undefined` when the
 * scrape held none of the engine's load metrics (wrong engine, wrong path, or garbage). Totals are
 * as summed: check the reading with {@linkcode unusableReading} before routing on it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROM_ENGINES, readPromEngine } from "./engines.ts";
 *
 * const reading = readPromEngine(PROM_ENGINES.vllm, [
 *   { name: "vllm:num_requests_waiting", labels: { model_name: "qwen", engine: "0" }, value: 2 },
 *   { name: "vllm:num_requests_waiting", labels: { model_name: "qwen", engine: "1" }, value: 1 },
 *   { name: "vllm:kv_cache_usage_perc", labels: { model_name: "qwen", engine: "0" }, value: 0.4 },
 * ], "qwen");
 * assert.deepEqual(reading, { waiting: 3, kvUsage: 0.4 });
 * ```
 */
export function readPromEngine(
  spec: PromEngineSpec,
  samples: readonly Sample[],
  model: string,
): EngineReading | undefined {
  const mine = forModel(spec, samples, model);
  const waiting = combine(mine, spec.waiting, "sum");
  const running = combine(mine, spec.running, "sum");
  const kv = combine(mine, spec.kv, "max");
  if (waiting === undefined && running === undefined && kv === undefined) return undefined;
  return {
    ...(waiting !== undefined ? { waiting } : {}),
    ...(running !== undefined ? { running } : {}),
    ...(kv !== undefined ? { kvUsage: Math.min(1, kv) } : {}),
  };
}
