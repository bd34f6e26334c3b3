import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./load.ts";
import { schemaKeysAt } from "./suggest.ts";
import { fileSchema } from "./schema.ts";

const load = (text: string) => parseConfig(text, { source: "typo.yaml", env: {} });
const problemsOf = (text: string): string[] => {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => p.text);
  }
  assert.fail("expected a ConfigError");
};

Deno.test("parseConfig() refuses the issue's typos with a suggestion: wieght, laod-balance, a service named chatt", () => {
  assert.deepEqual(
    problemsOf([
      "model:", //                                       1
      "  laod-balance: { type: random }", //             2
      "  services:", //                                  3
      "    chatt:", //                                   4
      "      instances: []", //                          5
      "    embedding:", //                               6
      "      instances:", //                             7
      "        - name: e", //                            8
      "          base-url: http://127.0.0.1:1", //       9
      "          wieght: 3", //                          10
    ].join("\n")),
    [
      "model.laod-balance is an unknown key — did you mean load-balance? (line 2)",
      "model.services.chatt is an unknown key — did you mean chat? (line 4)",
      "model.services.embedding.instances[0].wieght is an unknown key — did you mean weight? (line 10)",
    ],
  );
});

Deno.test("parseConfig() suggests across spellings and lists the valid keys when nothing is close", () => {
  assert.deepEqual(problemsOf("model:\n  circuit-breaker: { failureTreshold: 3 }\nsevrer: { port: 1 }\n"), [
    "model.circuit-breaker.failureTreshold is an unknown key — did you mean failure-threshold? (line 2)",
    "sevrer is an unknown key — did you mean server? (line 3)",
  ]);
  assert.deepEqual(problemsOf("model: {}\nlog: { colour: blue }\n"), [
    "log.colour is an unknown key (known here: level, format, max-pending-bytes) (line 2)",
  ]);
});

Deno.test("parseConfig() keeps known JAiRouter and Spring keys as warnings, and x- keys silent", () => {
  const { warnings } = load([
    "x-anchors: { a: &a 1 }", //                              1
    "model:", //                                              2
    "  load-balance: { type: random, virtual-nodes: 150 }", // 3
    "  services:", //                                         4
    "    chat:", //                                           5
    "      instances:", //                                    6
    "        - name: m", //                                   7
    "          base-url: http://127.0.0.1:1", //              8
    "          healthy: true", //                             9
    "          rate-limit: { enabled: false, key: x }", //    10
    "server:", //                                             11
    "  compression: { enabled: true }", //                    12
    "webclient: { read-timeout: 60s }", //                    13
    "adapter-definitions: {}", //                             14
  ].join("\n"));
  assert.deepEqual(warnings.map((w) => w.message), [
    "model.load-balance.virtual-nodes is a JAiRouter setting DAiRouter does not use: ignored (line 3)",
    "model.services.chat.instances[0].healthy is a JAiRouter setting DAiRouter does not use: ignored (line 9)",
    "model.services.chat.instances[0].rate-limit.key is a JAiRouter setting DAiRouter does not use: ignored (line 10)",
    "server.compression is a Spring Boot setting DAiRouter does not use: ignored (line 12)",
    "webclient is a JAiRouter setting DAiRouter does not use: ignored (line 13)",
    "adapter-definitions is a JAiRouter setting DAiRouter does not use: ignored (line 14)",
  ]);
});

Deno.test("schemaKeysAt() reads the valid keys at a position through optional, preprocess and arrays", () => {
  assert.ok(schemaKeysAt(fileSchema, ["model", "services", "chat", "instances", 0]).includes("baseUrl"));
  assert.ok(schemaKeysAt(fileSchema, ["model", "services"]).includes("imgEdit"));
  assert.deepEqual(schemaKeysAt(fileSchema, ["log"]), ["level", "format", "maxPendingBytes"]);
  assert.deepEqual(schemaKeysAt(fileSchema, ["model", "services", "chat", "instances", 0, "headers"]), []);
});
