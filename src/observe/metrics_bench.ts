/**
 * Cost of `recordRequest()` on the hot path, against prom-client used the obvious way
 * (label objects resolved on every call) as a baseline.
 */
import { Counter, Histogram, Registry } from "prom-client";
import type { AccessRecord } from "../types.ts";
import { createMetrics } from "./metrics.ts";

// 4 models × 3 instances = 12 label tuples, cycled so the caches see a realistic mix.
const records: AccessRecord[] = [];
for (let m = 0; m < 4; m++) {
  for (let i = 0; i < 3; i++) {
    records.push({
      requestId: `r${m}${i}`,
      clientIp: "127.0.0.1",
      method: "POST",
      route: "/v1/chat/completions",
      service: "chat",
      model: `model-${m}`,
      instance: `chat/model-${m}@http://127.0.0.1:800${i}#${i}`,
      status: i === 2 ? 502 : 200,
      durationMs: 150 + 400 * i,
      ttftMs: 40 + 10 * m,
      stream: m % 2 === 0,
      tokensIn: 120,
      tokensOut: 300,
      retries: 0,
    });
  }
}

const metrics = createMetrics();
let n = 0;
Deno.bench("recordRequest() (cached series, counters flushed at scrape)", {
  group: "recordRequest",
  baseline: true,
}, () => {
  metrics.recordRequest(records[n++ % records.length]);
});

const registry = new Registry();
const registers = [registry];
const requests = new Counter({
  name: "r_total",
  help: "h",
  labelNames: ["service", "model", "instance", "status"],
  registers,
});
const duration = new Histogram({ name: "d", help: "h", labelNames: ["service", "model"], registers });
const ttfb = new Histogram({ name: "t", help: "h", labelNames: ["service", "model", "stream"], registers });
const tokens = new Counter({
  name: "k_total",
  help: "h",
  labelNames: ["service", "model", "direction"],
  registers,
});
let k = 0;
Deno.bench("prom-client with label objects per call", { group: "recordRequest" }, () => {
  const r = records[k++ % records.length];
  const service = r.service ?? "none";
  const model = r.model ?? "unknown";
  requests.inc({ service, model, instance: r.instance ?? "none", status: String(r.status) });
  duration.observe({ service, model }, r.durationMs / 1000);
  ttfb.observe({ service, model, stream: String(r.stream) }, (r.ttftMs ?? 0) / 1000);
  tokens.inc({ service, model, direction: "in" }, r.tokensIn ?? 0);
  tokens.inc({ service, model, direction: "out" }, r.tokensOut ?? 0);
});

const full = createMetrics();
for (const r of records) full.recordRequest(r);
Deno.bench("render() with 12 label tuples", async () => {
  await full.render();
});
