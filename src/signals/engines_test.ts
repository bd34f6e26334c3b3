import assert from "node:assert/strict";
import { PROM_ENGINES, readPromEngine, unusableReading, wantedNames } from "./engines.ts";
import { parsePromText } from "./prometheus.ts";
import { isResident, readOllamaPs } from "./ollama_ps.ts";

const fixture = (path: string) => Deno.readTextFileSync(new URL(`./testdata/${path}`, import.meta.url));
const read = (engine: keyof typeof PROM_ENGINES, path: string, model = "m") => {
  const spec = PROM_ENGINES[engine];
  return readPromEngine(spec, parsePromText(fixture(path), wantedNames(spec)), model);
};

Deno.test("vLLM: waiting and running summed over engines, KV from kv_cache_usage_perc (the fullest)", () => {
  assert.deepEqual(read("vllm", "vllm/metrics.txt", "Qwen/Qwen2.5-7B-Instruct"), {
    waiting: 4,
    running: 21,
    kvUsage: 0.62,
  });
});

Deno.test("vLLM: the older gpu_cache_usage_perc is read when kv_cache_usage_perc is absent", () => {
  const text = fixture("vllm/metrics.txt").split("\n").filter((l) => !l.includes("kv_cache_usage_perc"))
    .join("\n");
  const spec = PROM_ENGINES.vllm;
  assert.equal(readPromEngine(spec, parsePromText(text, wantedNames(spec)), "x")?.kvUsage, 0.61);
});

Deno.test("vLLM: only the series of the instance's model_name count when the engine serves several", () => {
  const text = [
    'vllm:num_requests_waiting{engine="0",model_name="a"} 7',
    'vllm:num_requests_waiting{engine="0",model_name="b"} 1',
    'vllm:kv_cache_usage_perc{engine="0",model_name="a"} 0.9',
    'vllm:kv_cache_usage_perc{engine="0",model_name="b"} 0.1',
  ].join("\n");
  const spec = PROM_ENGINES.vllm;
  const samples = parsePromText(text, wantedNames(spec));
  assert.deepEqual(readPromEngine(spec, samples, "b"), { waiting: 1, kvUsage: 0.1 });
  assert.deepEqual(readPromEngine(spec, samples, "a"), { waiting: 7, kvUsage: 0.9 });
  // No series of that name: the engine's totals (one model served under another name).
  assert.deepEqual(readPromEngine(spec, samples, "alias"), { waiting: 8, kvUsage: 0.9 });
});

Deno.test("SGLang: dp ranks summed, tensor-parallel duplicates skipped, token_usage as KV", () => {
  assert.deepEqual(read("sglang", "sglang/metrics.txt", "meta-llama/Llama-3.1-8B-Instruct"), {
    waiting: 6,
    running: 58,
    kvUsage: 0.87,
  });
});

Deno.test("TGI: queue size and current batch size", () => {
  assert.deepEqual(read("tgi", "tgi/metrics.txt"), { waiting: 6, running: 32 });
});

Deno.test("llama.cpp: deferred and processing; KV only from builds that still export it", () => {
  assert.deepEqual(read("llamacpp", "llamacpp/metrics.txt"), { waiting: 7, running: 4 });
  assert.deepEqual(read("llamacpp", "llamacpp/metrics_older.txt"), { waiting: 0, running: 1, kvUsage: 0.25 });
});

Deno.test("Triton: pending requests of the instance's model, all versions", () => {
  assert.deepEqual(read("triton", "triton/metrics.txt", "llama3"), { waiting: 6 });
  assert.deepEqual(read("triton", "triton/metrics.txt", "embedder"), { waiting: 40 });
});

Deno.test("TEI: queue size", () => {
  assert.deepEqual(read("tei", "tei/metrics.txt"), { waiting: 12 });
});

Deno.test("a body without the engine's metrics gives no reading; NaN, Inf and negatives are not trusted", () => {
  assert.equal(read("vllm", "tgi/metrics.txt"), undefined);
  assert.equal(read("tgi", "garbage.txt"), undefined);
  const spec = PROM_ENGINES.vllm;
  const samples = parsePromText(
    "vllm:num_requests_waiting NaN\nvllm:num_requests_running -3\nvllm:kv_cache_usage_perc +Inf\n",
    wantedNames(spec),
  );
  assert.deepEqual(readPromEngine(spec, samples, "m"), { running: 0 });
});

Deno.test("finite series whose total overflows make a reading unusable, not an idle engine", () => {
  const spec = PROM_ENGINES.vllm;
  const samples = parsePromText(
    'vllm:num_requests_running{engine="0",model_name="m"} 1e308\n' +
      'vllm:num_requests_running{engine="1",model_name="m"} 1e308\n' +
      'vllm:num_requests_waiting{engine="0",model_name="m"} 1\n',
    wantedNames(spec),
  );
  const reading = readPromEngine(spec, samples, "m")!;
  assert.deepEqual(reading, { waiting: 1, running: Infinity });
  assert.equal(unusableReading(reading), "running is Infinity, not a finite count");
  assert.equal(unusableReading({ waiting: NaN }), "waiting is NaN, not a finite count");
  assert.equal(
    unusableReading({ waiting: 1e308, running: 0, kvUsage: 1 }),
    undefined,
    "large but finite is a count",
  );
});

Deno.test("Ollama /api/ps: loaded models, canonical names, residency", () => {
  const reading = readOllamaPs(JSON.parse(fixture("ollama/ps.json")));
  assert.deepEqual(reading, { models: ["llama3.2:latest", "qwen2.5:7b"] });
  assert.equal(isResident(reading!.models!, "llama3.2"), true);
  assert.equal(isResident(reading!.models!, "qwen2.5:7b"), true);
  assert.equal(isResident(reading!.models!, "mistral"), false);
  assert.deepEqual(readOllamaPs({ models: [] }), { models: [] });
  for (const bad of [null, "x", { models: "x" }, []]) assert.equal(readOllamaPs(bad), undefined);
});
