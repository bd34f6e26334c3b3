import assert from "node:assert/strict";
import { loadConfigFile, parseConfig } from "./load.ts";

const load = (text: string) => parseConfig(text, { source: "x.yaml", env: {} });
const NOTE = 'has settings but no "enabled": JAiRouter leaves such a block off, DAiRouter enforces it; ' +
  "write enabled: true or enabled: false to silence this warning";

Deno.test("parseConfig() warns of rate-limit and fallback blocks without enabled, with key and line, and still enforces them", () => {
  // The reviewer's file (cases/rl_noenabled.yml).
  const { config, warnings } = load([
    "model:",
    "  services:",
    "    chat:",
    "      rate-limit:",
    '        algorithm: "token-bucket"',
    "        capacity: 1",
    "        rate: 0.01",
    "      fallback:",
    "        strategy: cache",
    "      circuit-breaker:",
    "        failureThreshold: 1",
    "      instances:",
    "        - name: m",
    '          base-url: "http://127.0.0.1:9090"',
  ].join("\n"));
  assert.deepEqual(warnings.map((w) => w.message), [
    `model.services.chat.rate-limit ${NOTE} (line 4)`,
    `model.services.chat.fallback ${NOTE} (line 8)`,
  ]);
  assert.deepEqual(warnings.map((w) => [w.kind, w.path, w.line]), [
    ["jairouter", "model.services.chat.rate-limit", 4],
    ["jairouter", "model.services.chat.fallback", 8],
  ]);
  // DAiRouter's rule is unchanged: a block written is on.
  const chat = config.services.chat;
  assert.equal(chat.rateLimit?.capacity, 1);
  assert.equal(chat.fallback.enabled, true);
  assert.equal(chat.circuitBreaker.enabled, true);
});

Deno.test("parseConfig() warns at every level (global, model.services, service, instance) and names keys as written", () => {
  const { warnings } = load([
    "model:",
    "  rateLimit: { capacity: 10, rate: 1, scope: service }",
    "  fallback: { strategy: default }",
    "  services:",
    "    fallback: { strategy: cache }",
    "    embedding:",
    "      rate_limit: { algorithm: fixed-window, capacity: 5 }",
    "      instances:",
    "        - name: e",
    "          base-url: http://127.0.0.1:1",
    "          rate-limit: { capacity: 2, rate: 1 }",
  ].join("\n"));
  assert.deepEqual(warnings.map((w) => [w.path, w.line]), [
    ["model.rateLimit", 2],
    ["model.fallback", 3],
    ["model.services.fallback", 5],
    ["model.services.embedding.rate_limit", 7],
    ["model.services.embedding.instances[0].rate-limit", 11],
  ]);
});

Deno.test("parseConfig() is silent when enabled is written, true or false, and for circuit breakers", () => {
  const { warnings } = load([
    "model:",
    "  rate-limit: { enabled: false, capacity: 10, rate: 1 }",
    "  circuit-breaker: { failure-threshold: 3 }",
    "  services:",
    "    chat:",
    "      rate-limit: { enabled: true, capacity: 10, rate: 1 }",
    "      fallback: { enabled: false, strategy: cache }",
    "      circuit-breaker: { timeout: 5s }",
    "      instances:",
    "        - { name: m, base-url: 'http://127.0.0.1:1', rate-limit: { enabled: true, capacity: 1, rate: 1 } }",
  ].join("\n"));
  assert.deepEqual(warnings, []);
});

Deno.test("loadConfigFile() names the imported file that holds the block", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/application.yml`,
      "spring.config.import: limits.yml\nmodel:\n  services:\n    chat:\n      instances: [{ name: m, base-url: 'http://127.0.0.1:1' }]\n",
    );
    await Deno.writeTextFile(
      `${dir}/limits.yml`,
      "model:\n  services:\n    chat:\n      rate-limit: { capacity: 1, rate: 1 }\n",
    );
    const { warnings } = await loadConfigFile(`${dir}/application.yml`, {});
    const ours = warnings.filter((w) => w.kind === "jairouter");
    assert.deepEqual(ours.map((w) => w.message), [
      `model.services.chat.rate-limit ${NOTE} (line 4 of limits.yml)`,
    ]);
    assert.equal(ours[0].file, "limits.yml");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
