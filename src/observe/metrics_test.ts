import assert from "node:assert/strict";
import { accessRecord } from "./_testing.ts";
import { createMetrics } from "./metrics.ts";

/** One sample of the text exposition format: name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of the Prometheus text format (0.0.4), strict enough to fail on malformed lines. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ")) continue;
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      types.set(name, type);
      continue;
    }
    const m = sampleLine.exec(line);
    assert.ok(m, `malformed line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      labelPair.lastIndex = 0;
      let consumed = 0;
      for (let p = labelPair.exec(m[2]); p; p = labelPair.exec(m[2])) {
        labels[p[1]] = p[2];
        consumed = labelPair.lastIndex;
      }
      assert.equal(consumed, m[2].length, `malformed labels: ${line}`);
    }
    const value = m[3] === "+Inf" ? Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value), `bad value: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const hit = samples.find((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
    Object.keys(s.labels).length === Object.keys(labels).length
  );
  return hit?.value;
}

const record = accessRecord;

Deno.test("createMetrics() counts requests per service, model, instance, status and dialect", async () => {
  const m = createMetrics();
  for (let i = 0; i < 7; i++) m.recordRequest(record());
  for (let i = 0; i < 3; i++) m.recordRequest(record({ status: 502, instance: "chat/qwen#1" }));
  m.recordRequest(record({ service: "embedding", model: "bge", instance: "embedding/bge#0" }));
  const { samples, types } = parse(await m.render());
  assert.equal(types.get("dairouter_requests_total"), "counter");
  const base = { service: "chat", model: "qwen" };
  assert.equal(
    value(samples, "dairouter_requests_total", {
      ...base,
      instance: "chat/qwen#0",
      status: "200",
      dialect: "openai",
    }),
    7,
  );
  assert.equal(
    value(samples, "dairouter_requests_total", {
      ...base,
      instance: "chat/qwen#1",
      status: "502",
      dialect: "openai",
    }),
    3,
  );
  assert.equal(
    value(samples, "dairouter_requests_total", {
      service: "embedding",
      model: "bge",
      instance: "embedding/bge#0",
      status: "200",
      dialect: "openai",
    }),
    1,
  );
  const total = samples.filter((s) => s.name === "dairouter_requests_total").reduce((a, s) => a + s.value, 0);
  assert.equal(total, 11);
});

Deno.test("createMetrics() labels a client dialect's requests with it, OpenAI's with openai", async () => {
  const m = createMetrics();
  m.recordRequest(record({ dialect: "anthropic" }));
  m.recordRequest(record({ dialect: "anthropic" }));
  m.recordRequest(record());
  const { samples } = parse(await m.render());
  const labels = { service: "chat", model: "qwen", instance: "chat/qwen#0", status: "200" };
  assert.equal(value(samples, "dairouter_requests_total", { ...labels, dialect: "anthropic" }), 2);
  assert.equal(value(samples, "dairouter_requests_total", { ...labels, dialect: "openai" }), 1);
});

Deno.test("createMetrics() counts a stream the client abandoned after its 200 as status 499, not 200", async () => {
  const m = createMetrics();
  m.recordRequest(record({ stream: true }));
  m.recordRequest(record({ stream: true, status: 200, error: "client_abort" }));
  m.recordRequest(record({ status: 499, error: "client_abort" }));
  const { samples } = parse(await m.render());
  const labels = { service: "chat", model: "qwen", instance: "chat/qwen#0", dialect: "openai" };
  assert.equal(value(samples, "dairouter_requests_total", { ...labels, status: "200" }), 1);
  assert.equal(value(samples, "dairouter_requests_total", { ...labels, status: "499" }), 2);
});

Deno.test("createMetrics() keeps counter totals across repeated scrapes", async () => {
  const m = createMetrics();
  m.recordRequest(record({ tokensIn: 4 }));
  const labels = {
    service: "chat",
    model: "qwen",
    instance: "chat/qwen#0",
    status: "200",
    dialect: "openai",
  };
  const tokensIn = { service: "chat", model: "qwen", direction: "in" };
  let { samples } = parse(await m.render());
  assert.equal(value(samples, "dairouter_requests_total", labels), 1);
  ({ samples } = parse(await m.render()));
  assert.equal(value(samples, "dairouter_requests_total", labels), 1);
  assert.equal(value(samples, "dairouter_tokens_total", tokensIn), 4);
  m.recordRequest(record({ tokensIn: 4 }));
  ({ samples } = parse(await m.render()));
  assert.equal(value(samples, "dairouter_requests_total", labels), 2);
  assert.equal(value(samples, "dairouter_tokens_total", tokensIn), 8);
});

Deno.test("createMetrics() records absent service, model and instance as none/unknown/none", async () => {
  const m = createMetrics();
  m.recordRequest(record({ service: undefined, model: undefined, instance: undefined, status: 404 }));
  const { samples } = parse(await m.render());
  assert.equal(
    value(samples, "dairouter_requests_total", {
      service: "none",
      model: "unknown",
      instance: "none",
      status: "404",
      dialect: "openai",
    }),
    1,
  );
});

Deno.test("createMetrics() observes durations in seconds into the configured buckets", async () => {
  const m = createMetrics({ buckets: [0.1, 1, 10] });
  m.recordRequest(record({ durationMs: 50 }));
  m.recordRequest(record({ durationMs: 500 }));
  m.recordRequest(record({ durationMs: 5000 }));
  m.recordRequest(record({ durationMs: 50000 }));
  const { samples, types } = parse(await m.render());
  assert.equal(types.get("dairouter_request_duration_seconds"), "histogram");
  const b = (le: string) =>
    value(samples, "dairouter_request_duration_seconds_bucket", { le, service: "chat", model: "qwen" });
  assert.deepEqual([b("0.1"), b("1"), b("10"), b("+Inf")], [1, 2, 3, 4]);
  const lbl = { service: "chat", model: "qwen" };
  assert.equal(value(samples, "dairouter_request_duration_seconds_count", lbl), 4);
  assert.ok(Math.abs((value(samples, "dairouter_request_duration_seconds_sum", lbl) ?? 0) - 55.55) < 1e-9);
});

Deno.test("createMetrics() observes time to first byte with a stream label, only when known", async () => {
  const m = createMetrics();
  m.recordRequest(record({ stream: true, ttftMs: 200 }));
  m.recordRequest(record({ stream: true, ttftMs: 400 }));
  m.recordRequest(record({ stream: false, ttftMs: 100 }));
  m.recordRequest(record({ stream: false }));
  const { samples } = parse(await m.render());
  const name = "dairouter_time_to_first_byte_seconds_count";
  assert.equal(value(samples, name, { service: "chat", model: "qwen", stream: "true" }), 2);
  assert.equal(value(samples, name, { service: "chat", model: "qwen", stream: "false" }), 1);
  const sum = value(samples, "dairouter_time_to_first_byte_seconds_sum", {
    service: "chat",
    model: "qwen",
    stream: "true",
  });
  assert.ok(Math.abs((sum ?? 0) - 0.6) < 1e-9);
});

Deno.test("createMetrics() sums tokens in and out, skipping absent or invalid counts", async () => {
  const m = createMetrics();
  m.recordRequest(record({ tokensIn: 10, tokensOut: 25 }));
  m.recordRequest(record({ tokensIn: 5 }));
  m.recordRequest(record({ tokensIn: Number.NaN, tokensOut: -3, durationMs: Number.NaN }));
  const { samples } = parse(await m.render());
  assert.equal(
    value(samples, "dairouter_tokens_total", { service: "chat", model: "qwen", direction: "in" }),
    15,
  );
  assert.equal(
    value(samples, "dairouter_tokens_total", { service: "chat", model: "qwen", direction: "out" }),
    25,
  );
  assert.equal(
    value(samples, "dairouter_request_duration_seconds_count", { service: "chat", model: "qwen" }),
    2,
  );
});

Deno.test("createMetrics() counts retries, fallbacks, rate limits and upstream errors", async () => {
  const m = createMetrics();
  m.recordRetry("chat", "qwen", "chat/qwen#0");
  m.recordRetry("chat", "qwen", "chat/qwen#0");
  m.recordFallback("chat", "qwen", "cache");
  m.recordRateLimited("client-ip", "chat");
  m.recordRateLimited("global", "none");
  m.recordRateLimited("global", "none");
  m.recordUpstreamError("chat", "chat/qwen#0", "timeout");
  const { samples } = parse(await m.render());
  assert.equal(
    value(samples, "dairouter_retries_total", { service: "chat", model: "qwen", instance: "chat/qwen#0" }),
    2,
  );
  assert.equal(
    value(samples, "dairouter_fallbacks_total", { service: "chat", model: "qwen", strategy: "cache" }),
    1,
  );
  assert.equal(value(samples, "dairouter_rate_limited_total", { scope: "client-ip", service: "chat" }), 1);
  assert.equal(value(samples, "dairouter_rate_limited_total", { scope: "global", service: "none" }), 2);
  assert.equal(
    value(samples, "dairouter_upstream_errors_total", {
      service: "chat",
      instance: "chat/qwen#0",
      kind: "timeout",
    }),
    1,
  );
});

Deno.test("createMetrics() exports breaker state as 0/1/2 and health as 1/0, and forgets removed instances", async () => {
  const m = createMetrics();
  m.setBreakerState("chat", "a", "closed");
  m.setBreakerState("chat", "b", "half_open");
  m.setBreakerState("chat", "c", "open");
  m.setHealth("chat", "a", true);
  m.setHealth("chat", "c", false);
  let { samples } = parse(await m.render());
  const g = (name: string, instance: string) => value(samples, name, { service: "chat", instance });
  assert.deepEqual(
    ["a", "b", "c"].map((i) => g("dairouter_circuit_breaker_state", i)),
    [0, 1, 2],
  );
  assert.equal(g("dairouter_instance_healthy", "a"), 1);
  assert.equal(g("dairouter_instance_healthy", "c"), 0);

  m.removeInstance("chat", "c");
  ({ samples } = parse(await m.render()));
  assert.equal(g("dairouter_circuit_breaker_state", "c"), undefined);
  assert.equal(g("dairouter_instance_healthy", "c"), undefined);
  m.setBreakerState("chat", "c", "open");
  ({ samples } = parse(await m.render()));
  assert.equal(g("dairouter_circuit_breaker_state", "c"), 2);
});

Deno.test("createMetrics() reads in-flight counts from the source at each scrape", async () => {
  const m = createMetrics();
  let rows = [{ service: "chat", instance: "a", inFlight: 3 }, {
    service: "chat",
    instance: "b",
    inFlight: 0,
  }];
  m.setInFlightSource(() => rows);
  let { samples } = parse(await m.render());
  assert.equal(value(samples, "dairouter_in_flight_requests", { service: "chat", instance: "a" }), 3);
  assert.equal(value(samples, "dairouter_in_flight_requests", { service: "chat", instance: "b" }), 0);
  rows = [{ service: "chat", instance: "b", inFlight: 5 }];
  ({ samples } = parse(await m.render()));
  assert.equal(value(samples, "dairouter_in_flight_requests", { service: "chat", instance: "a" }), undefined);
  assert.equal(value(samples, "dairouter_in_flight_requests", { service: "chat", instance: "b" }), 5);
});

Deno.test("createMetrics() instances use separate registries", async () => {
  const a = createMetrics();
  const b = createMetrics();
  a.recordRequest(record());
  const { samples } = parse(await b.render());
  assert.equal(samples.filter((s) => s.name === "dairouter_requests_total").length, 0);
  assert.match(a.contentType, /^text\/plain; version=0\.0\.4/);
});

Deno.test("createMetrics() escapes quotes and backslashes in label values", async () => {
  const m = createMetrics();
  m.recordRequest(record({ model: 'we"ird\\name' }));
  const { samples } = parse(await m.render());
  assert.ok(
    samples.some((s) => s.name === "dairouter_requests_total" && s.labels.model === 'we\\"ird\\\\name'),
  );
});

Deno.test("createMetrics() rejects empty, non-positive and unordered buckets", () => {
  assert.throws(() => createMetrics({ buckets: [] }), {
    name: "RangeError",
    message: 'Cannot create metrics: "buckets" must not be empty, received []',
  });
  assert.throws(() => createMetrics({ buckets: [0, 1] }), {
    name: "RangeError",
    message: 'Cannot create metrics: "buckets[0]" must be a finite number > 0, received 0',
  });
  assert.throws(() => createMetrics({ buckets: [1, 1] }), {
    name: "RangeError",
    message: 'Cannot create metrics: "buckets" must be strictly increasing, received 1 then 1',
  });
  assert.throws(() => createMetrics({ buckets: [1, Infinity] }), RangeError);
});
