// Spring Boot's relaxed binding, as a JAiRouter user relies on it: a dotted key is the nested keys
// it names, and a key is the same key whatever its case. Security settings written either way must
// be honoured or refused, never dropped.
import assert from "node:assert/strict";
import { findApiKey } from "../proxy/api_keys.ts";
import { ConfigError, parseConfig } from "./load.ts";

const load = (text: string) => parseConfig(text, { source: "app.yml", env: {} });
const fails = (text: string): string => {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail("expected a ConfigError");
};

const MODEL =
  "model:\n  services:\n    chat:\n      instances:\n        - { name: m, base-url: http://127.0.0.1:1 }\n";
const KEY = "sk-relaxed-key-0001";
const KEYS = `  - { key-id: k1, key-value: "${KEY}", enabled: true, permissions: admin }\n`;

Deno.test("dotted jairouter.security keys at the root turn client authentication on", () => {
  const { config, warnings } = load(
    `${MODEL}jairouter.security.enabled: true\njairouter.security.api-key.keys:\n${KEYS}`,
  );
  assert.equal(config.auth.enabled, true);
  assert.equal(findApiKey(new Headers({ "x-api-key": KEY }), config.auth, 0)?.name, "k1");
  assert.deepEqual(warnings, []);
});

Deno.test("a dotted key and a nested one naming the same section are merged, as Spring merges them", () => {
  const { config } = load(
    `${MODEL}jairouter:\n  security.enabled: true\n  security:\n    api-key:\n      keys:\n  ${
      KEYS.replace("  - ", "      - ")
    }`,
  );
  assert.equal(config.auth.enabled, true);
  assert.equal(config.auth.keys[0].name, "k1");
});

Deno.test("a security setting in another case is read: on and unenforceable, the start is refused", () => {
  for (
    const [text, key] of [
      [
        "jairouter:\n  security:\n    sanitization:\n      Response:\n        enabled: true\n",
        "Response.enabled is on",
      ],
      [
        "jairouter:\n  security:\n    sanitization:\n      response:\n        ENABLED: true\n",
        "response.ENABLED is on",
      ],
      ["jairouter:\n  Security:\n    enabled: true\n    JWT:\n      Enabled: true\n", "JWT.Enabled is true"],
      ["jairouter.security.sanitization.request.enabled: true\n", "request.enabled is on"],
    ]
  ) {
    const message = fails(`${MODEL}${text}`);
    assert.ok(message.includes(key), message);
  }
});

Deno.test("any case of a DAiRouter key is that key; a dotted DAiRouter key is its nested keys", () => {
  const { config } = load(
    `${MODEL}Server:\n  Body_Limit: 2mb\nlog.level: debug\nmodel.services.chat.load-balance.type: random\n`,
  );
  assert.equal(config.server.bodyLimit, 2 * 1024 * 1024);
  assert.equal(config.log.level, "debug");
  assert.equal(config.services.chat.loadBalance.type, "random");
});

Deno.test("a dotted key that would replace a value written another way is set twice", () => {
  const message = fails(`${MODEL}log:\n  level: info\nlog.level: debug\n`);
  assert.match(message, /log\.level is set twice/);
  const nested = fails(`${MODEL}log.level: info\nlog:\n  level: debug\n`);
  assert.match(nested, /is set twice/);
});

Deno.test("keys that are data keep their dots and their case", () => {
  const { config } = load(
    "model:\n  services:\n    chat:\n      instances:\n        - name: m\n          base-url: http://127.0.0.1:1\n" +
      "          headers:\n            X-Org.Id: a\n",
  );
  assert.deepEqual(config.services.chat.instances[0].headers, { "X-Org.Id": "a" });
});

Deno.test("Spring's own keys, dotted or nested, are one ignored section, reported once", () => {
  const { warnings } = load(
    `${MODEL}spring.application.name: x\nspring:\n  main:\n    banner-mode: off\nspring.jmx.enabled: false\n`,
  );
  assert.equal(warnings.filter((w) => w.message.startsWith("spring")).length, 1, JSON.stringify(warnings));
});

Deno.test("YAML past the parser's depth and several documents in one file are refused in plain words", () => {
  const deep = `${MODEL}x:\n${"[".repeat(5000)}${"]".repeat(5000)}\n`;
  assert.match(fails(deep), /nests deeper than can be read/);
  assert.match(fails(`${MODEL}---\n${MODEL}`), /several documents/);
});
