/**
 * Engine load signals: what the engines themselves say about their load (queue, batch, KV cache,
 * loaded models), read from their own reports, kept per instance with an age, and corrected
 * between scrapes by what the gateway sent meanwhile.
 *
 * - `prometheus.ts`: a bounded, streaming reader of the Prometheus text format;
 * - `engines.ts`: which series each engine exports (verified against their sources);
 * - `ollama_ps.ts`: Ollama's `/api/ps` (loaded models);
 * - `instance_signal.ts`: one instance's signal (`stats.engine`), trust and correction;
 * - `scraper.ts`: the scheduler (injected fetch, clock and timers).
 *
 * The parsers and the signal are pure; only the scraper does I/O, through the `fetch` it is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROM_ENGINES, parsePromText, readPromEngine, wantedNames } from "./mod.ts";
 *
 * const text = "# TYPE sglang:num_queue_reqs gauge\nsglang:num_queue_reqs{model_name=\"m\",tp_rank=\"0\"} 7\n";
 * const samples = parsePromText(text, wantedNames(PROM_ENGINES.sglang));
 * assert.equal(readPromEngine(PROM_ENGINES.sglang, samples, "m")?.waiting, 7);
 * ```
 *
 * @module
 */

export {
  type EngineReading,
  PROM_ENGINES,
  type PromEngineSpec,
  readPromEngine,
  unusableReading,
  wantedNames,
} from "./engines.ts";
export { engineLoadOf, InstanceSignal } from "./instance_signal.ts";
export { isResident, MAX_MODELS, ollamaModelName, readOllamaPs } from "./ollama_ps.ts";
export {
  parsePromText,
  parseValue,
  PromTextReader,
  type PromTextReaderOptions,
  type Sample,
} from "./prometheus.ts";
export {
  createLoadScraper,
  DEFAULT_MAX_BYTES,
  type LoadScraper,
  type LoadScraperOptions,
  type ScrapeFailureReason,
  type ScrapeOutcome,
  type ScrapeTarget,
} from "./scraper.ts";
