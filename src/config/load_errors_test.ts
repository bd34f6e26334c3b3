import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./load.ts";

/** Parses and returns the ConfigError it must throw. */
function failure(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(text, { source: "x.yaml", env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err;
  }
  assert.fail("parseConfig() did not throw");
}

/** A chat service with the given instance lines; the first instance starts on line 5. */
const chat = (...instanceLines: string[]) =>
  ["model:", "  services:", "    chat:", "      instances:", ...instanceLines].join("\n");

Deno.test("parseConfig() rejects a negative weight naming file, key path and line", () => {
  const err = failure(chat(
    "        - name: a", //                      5
    "          base-url: http://127.0.0.1:1", // 6
    "        - name: b", //                      7
    "          base-url: http://127.0.0.1:2", // 8
    "          weight: -1", //                   9
  ));
  assert.equal(
    err.message,
    'Cannot load config "x.yaml": model.services.chat.instances[1].weight must be >= 0, received -1 (line 9)',
  );
  assert.deepEqual([err.source, err.path, err.key, err.line], [
    "x.yaml",
    "model.services.chat.instances[1].weight",
    "weight",
    9,
  ]);
});

Deno.test("parseConfig() reports the key path as written (camelCase, aliases)", () => {
  const err = failure(
    "model:\n  services:\n    embeddings:\n      instances:\n        - name: e\n          baseUrl: ftp://host\n",
  );
  assert.equal(
    err.message,
    'Cannot load config "x.yaml": model.services.embeddings.instances[0].baseUrl must be an http(s) URL, ' +
      'received "ftp://host" (line 6)',
  );
});

Deno.test("parseConfig() rejects a base URL that is not a URL", () => {
  const err = failure(chat("        - { name: a, base-url: '127.0.0.1:9090' }"));
  assert.equal(
    err.message,
    'Cannot load config "x.yaml": model.services.chat.instances[0].base-url must be an http(s) URL, ' +
      'received "127.0.0.1:9090" (line 5)',
  );
});

Deno.test("parseConfig() rejects an unknown rate-limit algorithm", () => {
  const err = failure("model:\n  rate-limit:\n    algorithm: leaky-window\n    capacity: 1\n");
  assert.equal(
    err.message,
    'Cannot load config "x.yaml": model.rate-limit.algorithm must be one of token-bucket, leaky-bucket, ' +
      'sliding-window, fixed-window, received "leaky-window" (line 3)',
  );
});

Deno.test("parseConfig() rejects an unknown load-balance strategy", () => {
  const err = failure("model:\n  services:\n    rerank:\n      load-balance:\n        type: fastest\n");
  assert.equal(
    err.message,
    'Cannot load config "x.yaml": model.services.rerank.load-balance.type must be one of random, round-robin, ' +
      "least-connections, ip-hash, power-of-two, least-latency, consistent-hash-bounded, least-load, " +
      'prefix-affinity, received "fastest" (line 5)',
  );
});

Deno.test("parseConfig() rejects wrong types with what it received", () => {
  const err = failure(chat(
    "        - name: a", //                      5
    "          base-url: http://127.0.0.1:1", // 6
    "          weight: heavy", //                7
    "          enabled: maybe", //               8
    "          headers: [a, b]", //              9
  ));
  assert.equal(
    err.message,
    [
      'Cannot load config "x.yaml": 3 problems',
      '  model.services.chat.instances[0].weight must be a number, received "heavy" (line 7)',
      '  model.services.chat.instances[0].enabled must be true or false, received "maybe" (line 8)',
      "  model.services.chat.instances[0].headers must be a mapping, received a list (line 9)",
    ].join("\n"),
  );
  assert.equal(err.problems.length, 3);
  assert.equal(err.line, 7);
});

Deno.test("parseConfig() reports a required key that is missing on its parent's line", () => {
  const err = failure(chat("        - name: a", "          weight: 1"));
  assert.equal(
    err.message,
    'Cannot load config "x.yaml": model.services.chat.instances[0].base-url is required (line 5)',
  );
  assert.equal(
    failure("server:\n  port: 1\n").message,
    'Cannot load config "x.yaml": model is required: ' +
      "a JAiRouter configuration has a model: section at its root",
  );
});

Deno.test("parseConfig() names the line of a YAML syntax error", () => {
  const err = failure("model:\n  services:\n    chat: [\n  adapter: ollama\n");
  assert.match(err.message, /^Cannot load config "x\.yaml": YAML syntax error: .+ \(line \d+\)$/);
  assert.equal(err.path, "");
  const dup = failure("model:\n  adapter: ollama\n  adapter: vllm\n");
  assert.equal(
    dup.message,
    'Cannot load config "x.yaml": model.adapter is set twice (first on line 2) (line 3)',
  );
});

Deno.test("parseConfig() rejects the same key written in two spellings", () => {
  const err = failure(
    chat("        - name: a", "          base-url: http://h", "          baseUrl: http://i"),
  );
  assert.equal(
    err.message,
    'Cannot load config "x.yaml": model.services.chat.instances[0].baseUrl is set twice ' +
      "(also as model.services.chat.instances[0].base-url on line 6) (line 7)",
  );
});

Deno.test("parseConfig() names the key of a missing environment variable", () => {
  const err = failure(
    chat("        - name: a", "          base-url: http://127.0.0.1:1", "          api-key: ${OPENAI_KEY}"),
  );
  assert.equal(
    err.message,
    'Cannot load config "x.yaml": model.services.chat.instances[0].api-key refers to ${OPENAI_KEY}, which is not set ' +
      "(line 7)",
  );
  const port = failure("server:\n  port: ${PORT}\nmodel: {}\n");
  assert.equal(port.problems.length, 1, "no type error on top of the missing variable");
  assert.equal(
    port.message,
    'Cannot load config "x.yaml": server.port refers to ${PORT}, which is not set (line 2)',
  );
});

Deno.test("parseConfig() lists several problems at once, one per line, in file order", () => {
  const text = [
    "server:", //                            1
    "  port: 70000", //                      2
    "  body-limit: lots", //                 3
    "  trusted-proxies: [10.0.0.0/33]", //   4
    "state: { backend: kv }", //             5
    "model:", //                             6
    "  circuit-breaker:", //                 7
    "    failureThreshold: 0", //            8
    "    timeout : soon", //                 9
    "  rate-limit: { algorithm: token-bucket, capacity: 10 }", // 10
    "  services:", //                        11
    "    chat:", //                          12
    "      load-balance: { hash-key: cookie }", // 13
    "      instances:", //                   14
    "        - name: ''", //                 15
    "          base-url: http://h", //       16
    "          path: v1/chat", //            17
  ].join("\n");
  const err = failure(text);
  assert.deepEqual(err.problems.map((p) => p.text), [
    "server.port must be <= 65535, received 70000 (line 2)",
    'server.body-limit must be a size in bytes or a string like "512kb", "10mb", received "lots" (line 3)',
    'server.trusted-proxies[0] must be an IP address or CIDR, received "10.0.0.0/33" (line 4)',
    "state.path is required when state.backend is kv (line 5)",
    "model.circuit-breaker.failureThreshold must be >= 1, received 0 (line 8)",
    'model.circuit-breaker.timeout must be a duration in ms or a string like "500ms", "30s", "10m", received "soon" ' +
    "(line 9)",
    "model.rate-limit.rate is required for token-bucket (line 10)",
    'model.services.chat.load-balance.hash-key must be client-ip, body:user or header:<Name>, received "cookie" ' +
    "(line 13)",
    'model.services.chat.instances[0].name must not be empty, received "" (line 15)',
    'model.services.chat.instances[0].path must start with "/", received "v1/chat" (line 17)',
  ]);
  assert.ok(
    err.message.startsWith('Cannot load config "x.yaml": 10 problems\n  server.port must be <= 65535'),
  );
  assert.equal(err.message.split("\n").length, 11);
});

Deno.test("parseConfig() rejects an empty file and a file that is not a mapping", () => {
  assert.equal(
    failure("").message,
    'Cannot load config "x.yaml": the file must be a YAML mapping with a model: section at its root',
  );
  assert.equal(
    failure("- a\n- b\n").message,
    'Cannot load config "x.yaml": the file must be a YAML mapping with a model: section at its root',
  );
});

Deno.test("parseConfig() rejects a state.share-interval of 0 naming the key and line", () => {
  const err = failure("model: {}\nstate:\n  backend: memory\n  share-interval: 0s\n");
  assert.match(err.message, /^Cannot load config "x\.yaml": state\.share-interval must be .*\(line 4\)$/);
});
