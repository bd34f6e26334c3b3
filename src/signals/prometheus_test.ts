import assert from "node:assert/strict";
import { parsePromText, parseValue, PromTextReader } from "./prometheus.ts";

const fixture = (path: string) => Deno.readTextFileSync(new URL(`./testdata/${path}`, import.meta.url));
const WANTED = ["vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"];

Deno.test("parseValue() reads floats, NaN and the infinities, and refuses the rest", () => {
  assert.equal(parseValue("3.0"), 3);
  assert.equal(parseValue("4.1e+06"), 4.1e6);
  assert.equal(parseValue("-.5"), -0.5);
  assert.ok(Number.isNaN(parseValue("NaN")!));
  assert.equal(parseValue("+Inf"), Infinity);
  assert.equal(parseValue("-Inf"), -Infinity);
  for (const bad of ["", "twelve", "0x10", "1,5", "Infinity", "1e"]) {
    assert.equal(parseValue(bad), undefined, bad);
  }
});

Deno.test("PromTextReader reads escapes, trailing commas, tabs, timestamps and CRLF; counts garbage", () => {
  const reader = new PromTextReader(new Set(WANTED));
  reader.push(fixture("garbage.txt"));
  reader.end();
  const seen = reader.samples.map((s) => [s.name, s.labels, s.value]);
  assert.deepEqual(seen[0], ["vllm:num_requests_waiting", { model_name: 'a"b\\c\nd', engine: "0" }, 2]);
  assert.equal(seen[1][0], "vllm:num_requests_running");
  assert.ok(Number.isNaN(seen[1][2] as number));
  assert.deepEqual(seen.slice(2), [
    ["vllm:kv_cache_usage_perc", { model_name: "x" }, Infinity],
    ["vllm:kv_cache_usage_perc", { model_name: "y" }, 0.5],
  ]);
  // The HTML line, the unclosed label, "twelve", the empty label name, three tokens, "{} 4".
  assert.equal(reader.garbage, 6);
  assert.deepEqual(parsePromText(fixture("crlf.txt"), WANTED).map((s) => s.value), [3, 1]);
});

Deno.test("PromTextReader gives the same samples however the body is split", () => {
  const text = fixture("vllm/metrics.txt");
  const whole = parsePromText(text, WANTED);
  assert.equal(whole.length, 6);
  for (const size of [1, 2, 7, 64, 1000]) {
    const reader = new PromTextReader(new Set(WANTED));
    for (let i = 0; i < text.length; i += size) reader.push(text.slice(i, i + size));
    reader.end();
    assert.deepEqual(reader.samples, whole, `chunks of ${size}`);
  }
});

Deno.test("PromTextReader keeps no more than maxLineLength of an endless line, nor more than maxSamples", () => {
  const reader = new PromTextReader(new Set(WANTED), { maxLineLength: 100, maxSamples: 2 });
  reader.push('vllm:num_requests_waiting{model_name="');
  for (let i = 0; i < 1000; i++) reader.push("x".repeat(1000)); // 1 MB without a newline
  assert.ok((reader as unknown as { partial: string }).partial.length <= 100);
  reader.push('"} 1\nvllm:num_requests_running 2\n');
  for (let i = 0; i < 5; i++) reader.push("vllm:num_requests_waiting 9\n");
  reader.end();
  assert.deepEqual(reader.samples.map((s) => s.value), [2, 9]);
  assert.equal(reader.garbage, 1 + 4);
});

Deno.test("PromTextReader skips comments and unwanted names without reading them", () => {
  const samples = parsePromText('# TYPE x gauge\n# EOF\n\n   \nother_metric{a="1"} 5\nx 1\n', ["x"]);
  assert.deepEqual(samples, [{ name: "x", labels: {}, value: 1 }]);
});
