import assert from "node:assert/strict";
import { SERVICE_KINDS } from "../types.ts";
import { parseConfig } from "./load.ts";

const seedUrl = new URL("./testdata/jairouter_seed.yaml", import.meta.url);
const articleUrl = new URL("./testdata/jairouter_article.yaml", import.meta.url);
const load = (text: string, env: Record<string, string> = {}) => parseConfig(text, { source: "x.yaml", env });

Deno.test("parseConfig() loads the seed's YAML unchanged with its strategies, limits and breaker", async () => {
  const { config } = parseConfig(await Deno.readTextFile(seedUrl), { source: "seed.yaml", env: {} });
  const s = config.services;
  assert.equal(config.source, "seed.yaml");
  assert.deepEqual(
    SERVICE_KINDS.map((k) => [k, s[k].loadBalance.type, s[k].loadBalance.hashAlgorithm]),
    [
      ["chat", "least-connections", "md5"],
      ["embedding", "round-robin", "md5"],
      ["rerank", "ip-hash", "sha256"],
      ["tts", "random", "md5"],
      ["stt", "round-robin", "md5"],
      ["imgGen", "round-robin", "md5"],
      ["imgEdit", "round-robin", "md5"],
    ],
  );
  assert.ok(SERVICE_KINDS.every((k) => s[k].adapter === "gpustack"));
  assert.equal(
    config.globalRateLimit,
    undefined,
    'scope "service" is a per-service default, not one limiter',
  );
  assert.deepEqual(s.chat.rateLimit, {
    enabled: true,
    algorithm: "token-bucket",
    capacity: 100,
    rate: 10,
    windowMs: 1000,
    scope: "service",
    clientIpEnable: false,
    maxKeys: 100000,
  });
  for (const kind of SERVICE_KINDS.filter((k) => k !== "chat")) {
    assert.equal(s[kind].rateLimit?.capacity, 1000, kind);
    assert.equal(s[kind].rateLimit?.rate, 100, kind);
  }
  assert.deepEqual(s.tts.circuitBreaker, {
    enabled: true,
    failureThreshold: 5,
    timeoutMs: 60000,
    successThreshold: 2,
    halfOpenMaxCalls: 1,
  });
  assert.deepEqual(s.chat.fallback, {
    enabled: true,
    strategy: "default",
    cacheSize: 100,
    cacheTtlMs: 600000,
  });
  assert.deepEqual(s.rerank.fallback, {
    enabled: true,
    strategy: "cache",
    cacheSize: 50,
    cacheTtlMs: 600000,
  });
});

Deno.test("parseConfig() gives the seed's instances stable ids, #n on repeats, and trims base URLs", async () => {
  const { config } = parseConfig(await Deno.readTextFile(seedUrl), { source: "seed.yaml", env: {} });
  const s = config.services;
  const url = "http://172.16.30.6:9090";
  assert.deepEqual(s.embedding.instances.map((i) => i.id), [
    `embedding/nomic-embed-text-v1.5@${url}/v1/embeddings`,
    `embedding/nomic-embed-text-v1.5@${url}/v1/embeddings#2`,
    `embedding/bge-large-zh-v1.5@${url}/v1/embeddings`,
  ]);
  assert.equal(s.embedding.instances[2].baseUrl, url, "the seed's trailing slash is removed");
  assert.deepEqual(s.chat.instances.map((i) => i.id), [
    `chat/qwen3:1.7B@${url}/v1-openai/chat/completions`,
    `chat/qwen3:1.7B@${url}/v1/chat/completions`,
  ]);
  assert.deepEqual(s.rerank.instances.map((i) => [i.id, i.weight]), [
    [`rerank/bge-reranker-v2-m3@${url}/v1/rerank`, 1],
    [`rerank/bge-reranker-v2-m3@${url}/v1/rerank#2`, 2],
  ]);
  assert.deepEqual(s.stt.instances.map((i) => i.weight), [2, 1]);
  assert.equal(s.imgEdit.instances[0].id, `imgEdit/stable-diffusion-2-1@${url}/v1/images/edits`);
  assert.deepEqual(s.chat.instances[0], {
    name: "qwen3:1.7B",
    baseUrl: url,
    path: "/v1-openai/chat/completions",
    weight: 1,
    adapter: "gpustack",
    headers: {},
    enabled: true,
    health: s.chat.health,
    id: `chat/qwen3:1.7B@${url}/v1-openai/chat/completions`,
    line: 44,
  });
  assert.deepEqual(
    [
      s.chat.instances[1].rateLimit?.capacity,
      s.chat.instances[1].rateLimit?.rate,
      s.chat.instances[1].rateLimit?.scope,
    ],
    [50, 5, "instance"],
  );
});

Deno.test("parseConfig() warns about the seed's duplicate instances, naming both lines", async () => {
  const { warnings } = parseConfig(await Deno.readTextFile(seedUrl), { source: "seed.yaml", env: {} });
  assert.deepEqual(warnings.map((w) => [w.path, w.line]), [
    ["model.services.embedding.instances[1]", 70],
    ["model.services.rerank.instances[1]", 94],
    ["model.services.tts.instances[1]", 108],
    ["model.services.stt.instances[1]", 122],
  ]);
  assert.equal(
    warnings[0].message,
    "model.services.embedding.instances[1] has the same name, base-url and path as " +
      "model.services.embedding.instances[0] on line 66; both are kept, this one as " +
      '"embedding/nomic-embed-text-v1.5@http://172.16.30.6:9090/v1/embeddings#2" (line 70)',
  );
});

Deno.test("parseConfig() loads the article's variant with client-ip-enable", async () => {
  const { config, warnings } = parseConfig(await Deno.readTextFile(articleUrl), {
    source: "a.yaml",
    env: {},
  });
  assert.deepEqual(warnings, []);
  assert.equal(config.services.chat.rateLimit?.clientIpEnable, true);
  assert.equal(config.services.embedding.rateLimit?.clientIpEnable, true, "inherited from model.rate-limit");
  assert.equal(config.services.chat.instances[0].rateLimit?.clientIpEnable, false);
  assert.equal(config.services.chat.circuitBreaker.timeoutMs, 60000);
  assert.equal(config.services.embedding.instances.length, 0);
});

Deno.test("parseConfig() loads a Spring application.yml, takes server.port and warns about the rest", () => {
  const text = [
    "server:", //                                   1
    "  port: ${SERVER_PORT:8081}", //               2
    "  servlet:", //                                3
    "    context-path: /api", //                    4
    "spring:", //                                   5
    "  application:", //                            6
    "    name: ${APP_NAME}", //                     7 (a Spring reference: never resolved)
    "logging:", //                                  8
    "  level:", //                                  9
    "    org.unreal: DEBUG", //                     10
    "management:", //                               11
    "  endpoints: { web: { exposure: { include: '*' } } }", // 12
    "model:", //                                    13
    "  services:", //                               14
    "    chat:", //                                 15
    "      instances:", //                          16
    "        - name: m", //                         17
    "          base-url: http://127.0.0.1:9090", // 18
  ].join("\n");
  const { config, warnings } = load(text);
  assert.equal(config.server.port, 8081);
  assert.deepEqual(warnings.map((w) => w.message), [
    "server.servlet is a Spring Boot setting DAiRouter does not use: ignored (line 3)",
    "spring is a Spring Boot setting, not a DAiRouter one: ignored (but for config.import and profiles, which are followed) (line 5)",
    "logging is a Spring Boot setting, not a DAiRouter one: ignored (line 8)",
    "management is a Spring Boot setting, not a DAiRouter one: ignored (line 11)",
  ]);
  assert.deepEqual(warnings[1], {
    kind: "unknown-key",
    message:
      "spring is a Spring Boot setting, not a DAiRouter one: ignored (but for config.import and profiles, which are followed) (line 5)",
    path: "spring",
    line: 5,
  });
});

Deno.test("parseConfig() refuses unknown keys in our blocks, listing the keys valid there", () => {
  assert.throws(
    () =>
      load(
        "model:\n  colour: blue\n  services:\n    chat:\n      load-balance: { type: random, sticky: yes }\n",
      ),
    (err: Error) =>
      err.message.includes(
        "model.colour is an unknown key (known here: load-balance, adapter, rate-limit, circuit-breaker",
      ) &&
      err.message.includes(
        "model.services.chat.load-balance.sticky is an unknown key (known here: type, hash-algorithm, hash-key, load-factor",
      ),
  );
});
