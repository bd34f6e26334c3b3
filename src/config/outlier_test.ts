import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./load.ts";
import { OUTLIER_DEFAULTS } from "./outlier.ts";

const load = (text: string) => parseConfig(text, { source: "x.yaml", env: {} });

Deno.test("outlier-detection: on by default; global → service, key by key; durations in any unit", () => {
  const { config } = load([
    "model:",
    "  outlier-detection: { factor: 20, base-ejection-time: 1m }",
    "  services:",
    "    chat:",
    "      outlier-detection: { min-wait: 3s, max-ejection-percent: 50, interval: 250ms }",
    "      instances: [{ name: a, base-url: 'http://127.0.0.1:1' }]",
    "    embedding:",
    "      outlierDetection: { enabled: false }",
  ].join("\n"));
  assert.deepEqual(config.services.chat.outlier, {
    enabled: true,
    intervalMs: 250,
    factor: 20,
    minWaitMs: 3000,
    baseEjectionTimeMs: 60_000,
    maxEjectionTimeMs: 300_000,
    maxEjectionPercent: 50,
  });
  assert.equal(config.services.embedding.outlier.enabled, false);
  assert.deepEqual(config.services.rerank.outlier, {
    ...OUTLIER_DEFAULTS,
    factor: 20,
    baseEjectionTimeMs: 60_000,
  });
  assert.deepEqual(load("model: {}").config.services.chat.outlier, OUTLIER_DEFAULTS);
});

Deno.test("outlier-detection: max-ejection-time below the base ejection time is raised to it", () => {
  const { config } = load("model:\n  outlier-detection: { base-ejection-time: 10m, max-ejection-time: 1m }");
  assert.equal(config.services.chat.outlier.maxEjectionTimeMs, 600_000);
});

Deno.test("outlier-detection errors name the key and line", () => {
  const at = (block: string) => {
    try {
      load(`model:\n  services:\n    chat:\n      outlier-detection: ${block}\n`);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    assert.fail("parseConfig() did not throw");
  };
  assert.match(at("{ factor: 1 }"), /outlier-detection\.factor.*line 4/s);
  assert.match(at("{ max-ejection-percent: 150 }"), /outlier-detection\.max-ejection-percent/);
  assert.match(at("{ min-wait: soon }"), /outlier-detection\.min-wait/);
  assert.match(at("{ interval: 0 }"), /outlier-detection\.interval/);
  assert.match(at("{ enabled: maybe }"), /outlier-detection\.enabled/);
});
