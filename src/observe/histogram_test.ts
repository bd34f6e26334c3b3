import assert from "node:assert/strict";
import { AggregatorRegistry, Histogram, Registry } from "prom-client";
import { RequestHistogram } from "./histogram.ts";

const BUCKETS = [0.005, 0.1, 1, 10];
// On a bound, between bounds, below the first, above the last, zero.
const OBSERVED: [string, string, number][] = [
  ["chat", "qwen", 0.1],
  ["chat", "qwen", 0.05],
  ["chat", "qwen", 0.001],
  ["chat", "qwen", 42],
  ["embeddings", "bge", 0],
  ["chat", "qwen", 1],
];

/** The same observations through ours and through prom-client's own Histogram. */
function both(): { ours: Registry; theirs: Registry } {
  const ours = new Registry();
  const theirs = new Registry();
  const h = new RequestHistogram({
    name: "d",
    help: "Help.",
    labelNames: ["service", "model"],
    buckets: BUCKETS,
    registry: ours,
  });
  const p = new Histogram({
    name: "d",
    help: "Help.",
    labelNames: ["service", "model"],
    buckets: BUCKETS,
    registers: [theirs],
  });
  for (const [service, model, v] of OBSERVED) {
    h.series([service, model]).observe(v);
    p.labels(service, model).observe(v);
  }
  return { ours, theirs };
}

/** prom-client's JSON also carries `exemplar: null` (ours has no exemplars); compared without. */
function withoutExemplars(metrics: unknown): unknown {
  return JSON.parse(JSON.stringify(metrics, (k, v) => k === "exemplar" ? undefined : v));
}

Deno.test("RequestHistogram: the text exposition is prom-client's, byte for byte", async () => {
  const { ours, theirs } = both();
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.match(await ours.metrics(), /d_bucket\{le="0.1",service="chat",model="qwen"\} 3\n/);
});

Deno.test("RequestHistogram: as data and aggregated across registries, it is prom-client's", async () => {
  const a = both();
  const b = both();
  assert.deepEqual(await a.ours.getMetricsAsJSON(), withoutExemplars(await a.theirs.getMetricsAsJSON()));
  // Workers hand their registries' JSON to the supervisor, which sums them.
  const ours = await AggregatorRegistry.aggregate([
    await a.ours.getMetricsAsJSON(),
    await b.ours.getMetricsAsJSON(),
  ])
    .metrics();
  const theirs = await AggregatorRegistry.aggregate([
    await a.theirs.getMetricsAsJSON(),
    await b.theirs.getMetricsAsJSON(),
  ]).metrics();
  assert.equal(ours, theirs);
  assert.match(ours, /d_count\{service="chat",model="qwen"\} 10\n/);
});

Deno.test("RequestHistogram: one series per label tuple; reset zeroes and keeps it counting", async () => {
  const registry = new Registry();
  const h = new RequestHistogram({ name: "t", help: "h", labelNames: ["s"], buckets: [1], registry });
  const s = h.series(["a"]);
  assert.equal(h.series(["a"]), s);
  assert.notEqual(h.series(["b"]), s);
  s.observe(2);
  registry.resetMetrics();
  assert.match(await registry.metrics(), /t_count\{s="a"\} 0\n/);
  s.observe(0.5);
  assert.match(await registry.metrics(), /t_bucket\{le="1",s="a"\} 1\n/);
});
