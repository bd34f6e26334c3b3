import assert from "node:assert/strict";
import { parseConfig } from "./load.ts";

const load = (text: string, env: Record<string, string> = {}) => parseConfig(text, { source: "x.yaml", env });

Deno.test("parseConfig() reads kebab-case, camelCase and snake_case keys alike", () => {
  const block = (k: (kebab: string) => string) =>
    [
      "model:",
      `  ${k("load-balance")}: { type: ip-hash, ${k("hash-algorithm")}: sha1, ${k("hash-key")}: body:user, ${
        k("load-factor")
      }: 1.5 }`,
      `  ${k("circuit-breaker")}: { ${k("failure-threshold")}: 7, ${k("success-threshold")}: 3, ${
        k("half-open-max-calls")
      }: 2 }`,
      `  ${k("rate-limit")}: { enabled: true, capacity: 9, rate: 3, ${k("client-ip-enable")}: true, ${
        k("max-keys")
      }: 10, ${k("warm-up")}: { period: 5s, ${k("initial-fraction")}: 0.5 } }`,
      `  fallback: { enabled: true, strategy: cache, ${k("cache-size")}: 7, ${k("cache-ttl")}: 1m }`,
      `  timeouts: { ${k("first-byte")}: 2s }`,
      `  retry: { ${k("max-attempts")}: 2 }`,
      `  ${k("health-check")}: { ${k("healthy-threshold")}: 4, ${k("unhealthy-threshold")}: 5, ${
        k("passive-failures")
      }: 0 }`,
      "  services:",
      `    ${k("img-gen")}:`,
      "      instances:",
      `        - { name: m, ${k("base-url")}: "http://127.0.0.1:1", ${k("api-key")}: k }`,
      `server: { ${k("body-limit")}: 1kb, ${k("trusted-proxies")}: [::1], ${k("drain-delay")}: 2s, ${
        k("shutdown-timeout")
      }: 5s }`,
      `state: { backend: kv, path: /tmp/s.kv, ${k("flush-interval")}: 2s }`,
    ].join("\n");
  const kebab = load(block((s) => s));
  const camel = load(block((s) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())));
  const snake = load(block((s) => s.replaceAll("-", "_")));
  assert.deepEqual(camel.config, kebab.config);
  assert.deepEqual(snake.config, kebab.config);
  assert.deepEqual(kebab.warnings, []);
  const img = kebab.config.services.imgGen;
  assert.deepEqual(img.loadBalance, {
    type: "ip-hash",
    hashAlgorithm: "sha1",
    hashKey: "body:user",
    loadFactor: 1.5,
    kvSaturation: 0.9,
    prefix: { blockSize: 64, maxBlocks: 512, cacheSize: 8192 },
  });
  assert.deepEqual(img.circuitBreaker, {
    enabled: true,
    failureThreshold: 7,
    timeoutMs: 60000,
    successThreshold: 3,
    halfOpenMaxCalls: 2,
  });
  assert.deepEqual(img.rateLimit?.warmUp, { periodMs: 5000, initialFraction: 0.5 });
  assert.equal(img.rateLimit?.clientIpEnable, true);
  assert.equal(img.rateLimit?.maxKeys, 10);
  assert.deepEqual(img.fallback, { enabled: true, strategy: "cache", cacheSize: 7, cacheTtlMs: 60000 });
  assert.deepEqual(img.timeouts, { connectMs: 5000, firstByteMs: 2000, idleMs: 60000, totalMs: 0 });
  assert.deepEqual(img.retry, { maxAttempts: 2, budgetMs: 30000 });
  assert.equal(img.health.healthyThreshold, 4);
  assert.equal(img.health.passiveFailures, 0);
  assert.equal(img.instances[0].apiKey, "k");
  assert.deepEqual(kebab.config.server, {
    host: "0.0.0.0",
    port: 8080,
    bodyLimit: 1024,
    bodyIdleTimeoutMs: 30000,
    bodyTimeoutMs: 300000,
    maxPendingBodyBytes: 256 * 1024 * 1024,
    headerTimeoutMs: 10_000,
    maxConnections: 0,
    trustedProxies: ["::1"],
    drainDelayMs: 2000,
    shutdownTimeoutMs: 5000,
    workers: 1,
    workerStallTimeoutMs: 10000,
  });
  assert.deepEqual(kebab.config.state, {
    backend: "kv",
    path: "/tmp/s.kv",
    flushIntervalMs: 2000,
    keyPrefix: "dairouter:",
    timeoutMs: 50,
    onUnavailable: "local",
    replicas: 1,
    shareIntervalMs: 100,
  });
});

Deno.test("parseConfig() accepts service aliases embeddings, img-gen and img-edit", () => {
  const { config } = load(
    "model:\n  services:\n    embeddings: { instances: [{ name: e, base-url: 'http://127.0.0.1:1' }] }\n" +
      "    img-edit: { instances: [{ name: i, base-url: 'http://127.0.0.1:2' }] }\n",
  );
  assert.equal(config.services.embedding.instances[0].id, "embedding/e@http://127.0.0.1:1");
  assert.equal(config.services.imgEdit.instances[0].id, "imgEdit/i@http://127.0.0.1:2");
});

Deno.test("parseConfig() applies defaults when the file only has instances", () => {
  const { config } = load(
    "model:\n  services:\n    rerank:\n      instances: [{ name: r, base-url: 'https://h' }]\n",
  );
  const rerank = config.services.rerank;
  assert.deepEqual(config.server, {
    host: "0.0.0.0",
    port: 8080,
    bodyLimit: 25 * 1024 * 1024,
    bodyIdleTimeoutMs: 30000,
    bodyTimeoutMs: 300000,
    maxPendingBodyBytes: 256 * 1024 * 1024,
    headerTimeoutMs: 10_000,
    maxConnections: 0,
    trustedProxies: [],
    drainDelayMs: 5000,
    shutdownTimeoutMs: 30000,
    workers: 1,
    workerStallTimeoutMs: 10000,
  });
  assert.deepEqual(config.log, { level: "info", format: "json", maxPendingBytes: 8 * 1024 * 1024 });
  assert.deepEqual(config.state, {
    backend: "memory",
    flushIntervalMs: 1000,
    keyPrefix: "dairouter:",
    timeoutMs: 50,
    onUnavailable: "local",
    replicas: 1,
    shareIntervalMs: 100,
  });
  assert.deepEqual(rerank.loadBalance, {
    type: "random",
    hashAlgorithm: "fnv1a",
    hashKey: "client-ip",
    loadFactor: 1.25,
    kvSaturation: 0.9,
    prefix: { blockSize: 64, maxBlocks: 512, cacheSize: 8192 },
  });
  assert.equal(rerank.adapter, "openai");
  assert.equal(rerank.rateLimit, undefined);
  assert.deepEqual(rerank.fallback, {
    enabled: false,
    strategy: "default",
    cacheSize: 100,
    cacheTtlMs: 600000,
  });
  assert.deepEqual(rerank.timeouts, { connectMs: 5000, firstByteMs: 30000, idleMs: 60000, totalMs: 0 });
  assert.equal(config.services.chat.timeouts.firstByteMs, 120000);
  assert.deepEqual(rerank.retry, { maxAttempts: 3, budgetMs: 30000 });
  assert.deepEqual(rerank.health, {
    enabled: true,
    intervalMs: 10000,
    timeoutMs: 3000,
    type: "http",
    healthyThreshold: 1,
    unhealthyThreshold: 2,
    passiveFailures: 3,
  });
  assert.equal(rerank.instances[0].weight, 1);
  assert.equal(rerank.instances[0].enabled, true);
});

Deno.test("parseConfig() makes a global rate-limit with scope global one gateway-wide limiter", () => {
  const { config } = load(
    "model:\n  rate-limit: { algorithm: sliding-window, capacity: 600, window: 1m, scope: global }\n" +
      "  services:\n    chat:\n      rate-limit: { capacity: 5, rate: 1 }\n",
  );
  assert.deepEqual(config.globalRateLimit, {
    enabled: true,
    algorithm: "sliding-window",
    capacity: 600,
    rate: 10,
    windowMs: 60000,
    scope: "global",
    clientIpEnable: false,
    maxKeys: 100000,
  });
  assert.equal(config.services.embedding.rateLimit, undefined);
  assert.equal(config.services.chat.rateLimit?.capacity, 5);
});

Deno.test("parseConfig() turns disabled rate-limit blocks into no limiter, overriding the global one", () => {
  const { config } = load(
    "model:\n  rate-limit: { capacity: 10, rate: 1 }\n  services:\n    chat:\n      rate-limit: { enabled: false }\n",
  );
  assert.equal(config.services.chat.rateLimit, undefined);
  assert.equal(config.services.tts.rateLimit?.capacity, 10);
});

Deno.test("parseConfig() takes model.services.load-balance as a global default, overridden per service", () => {
  const { config } = load(
    "model:\n  services:\n    load-balance: { type: round-robin, hash-algorithm: md5 }\n" +
      "    chat: { load-balance: { type: least-latency } }\n",
  );
  assert.equal(config.services.embedding.loadBalance.type, "round-robin");
  assert.equal(config.services.chat.loadBalance.type, "least-latency");
  assert.equal(config.services.chat.loadBalance.hashAlgorithm, "md5");
});

Deno.test("parseConfig() keeps header names as written and fills ${ENV} placeholders", () => {
  const { config } = load(
    [
      "server: { port: '${PORT:-9000}', host: '${HOST:-127.0.0.1}' }",
      "model:",
      "  services:",
      "    chat:",
      "      instances:",
      "        - name: m",
      "          base-url: http://${UP_HOST}:${UP_PORT:11434}",
      "          api-key: ${KEY}",
      "          enabled: ${ENABLED:-true}",
      "          headers: { X-Api_Key: 'Bearer ${KEY}', x-literal: '$${NOT_ENV}', X-Num: 5 }",
    ].join("\n"),
    { UP_HOST: "127.0.0.1", KEY: "sk-1", PORT: "" },
  );
  const inst = config.services.chat.instances[0];
  assert.equal(config.server.port, 9000, ":- also replaces an empty value");
  assert.equal(config.server.host, "127.0.0.1");
  assert.equal(inst.baseUrl, "http://127.0.0.1:11434");
  assert.equal(inst.apiKey, "sk-1");
  assert.deepEqual(inst.headers, { "X-Api_Key": "Bearer sk-1", "x-literal": "${NOT_ENV}", "X-Num": "5" });
});

Deno.test("parseConfig() fills nested placeholders: ${A:${B:default}} is the default, not ${B:default}", () => {
  // The reviewer's two files (cases/env3.yml and env4.yml), with and without the variables.
  const text = [
    "model:",
    "  services:",
    "    chat:",
    "      instances:",
    "        - name: m",
    '          base-url: "${A:${B:http://127.0.0.1:1}}"',
    '          api-key: "${TOK:${TOK2:secret}}"',
  ].join("\n");
  const bare = load(text).config.services.chat.instances[0];
  assert.equal(bare.baseUrl, "http://127.0.0.1:1");
  assert.equal(bare.apiKey, "secret");
  const set = load(text, { B: "http://127.0.0.1:2", TOK2: "sk-2" }).config.services.chat.instances[0];
  assert.equal(set.baseUrl, "http://127.0.0.1:2");
  assert.equal(set.apiKey, "sk-2");
  assert.throws(
    () => load(text.replace("${TOK2:secret}", "${TOK2}")),
    /model\.services\.chat\.instances\[0\]\.api-key refers to \$\{TOK2\}, which is not set \(line 7\)/,
  );
});

Deno.test("parseConfig() returns deeply frozen values", () => {
  const result = load(
    "model:\n  services:\n    chat:\n      instances: [{ name: m, base-url: 'http://h' }]\n",
  );
  assert.ok(Object.isFrozen(result));
  assert.ok(Object.isFrozen(result.config.services.chat.instances));
  assert.ok(Object.isFrozen(result.config.services.chat.instances[0].headers));
  assert.ok(Object.isFrozen(result.config.server.trustedProxies));
  assert.ok(Object.isFrozen(result.warnings));
  assert.throws(() => {
    (result.config.services.chat.loadBalance as { type: string }).type = "ip-hash";
  }, TypeError);
});

Deno.test("parseConfig() binds values like Spring: quoted numbers, TOKEN_BUCKET, anchors and merge keys", () => {
  const { config } = load(
    [
      "x-defaults: &up { base-url: 'http://127.0.0.1:1', weight: '3' }",
      "model:",
      "  rate-limit: { algorithm: LEAKY_BUCKET, capacity: '10', rate: 2 }",
      "  load-balance: { type: leastConnections }",
      "  services:",
      "    chat:",
      "      instances:",
      "        - { <<: *up, name: a }",
      "        - { <<: *up, name: b, weight: 1 }",
    ].join("\n"),
  );
  assert.equal(config.services.chat.rateLimit?.algorithm, "leaky-bucket");
  assert.equal(config.services.chat.rateLimit?.capacity, 10);
  assert.equal(config.services.chat.loadBalance.type, "least-connections");
  assert.deepEqual(config.services.chat.instances.map((i) => [i.name, i.baseUrl, i.weight]), [
    ["a", "http://127.0.0.1:1", 3],
    ["b", "http://127.0.0.1:1", 1],
  ]);
});

Deno.test("parseConfig() tags every warning with a kind programs can test instead of its wording", () => {
  const { warnings } = load([
    "logging: { level: { root: INFO } }",
    "model:",
    "  services:",
    "    chat:",
    "      instances:",
    "        - { name: m, base-url: http://127.0.0.1:9090 }",
    "        - { name: m, base-url: http://127.0.0.1:9090 }",
    "auth:",
    "  keys:",
    "    - { name: ci, key: sk-123456, models: [nobody] }",
  ].join("\n"));
  assert.deepEqual(warnings.map((w) => [w.kind, w.line]), [
    ["unknown-key", 1],
    ["duplicate-instance", 7],
    ["unserved-model", 10],
  ]);
});
