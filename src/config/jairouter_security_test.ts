import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { findApiKey } from "../proxy/api_keys.ts";
import { ConfigError, parseConfig } from "./load.ts";

const load = (text: string) => parseConfig(text, { source: "app.yml", env: {} });
const fails = (text: string): ConfigError => {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail("expected a ConfigError");
};

const MODEL =
  "model:\n  services:\n    chat:\n      instances:\n        - { name: m, base-url: http://127.0.0.1:1 }\n";
const security = (body: string) => `${MODEL}jairouter:\n  security:\n${body}`;
const KEY = "sk-jairouter-key-0001";
const headers = (h: Record<string, string>) => new Headers(h);

Deno.test("jairouter.security.api-key maps onto auth: header name, hashed key-value, enabled, permissions", () => {
  const { config, warnings } = load(security([
    "    enabled: true",
    "    api-key:",
    "      enabled: true",
    '      header-name: "X-Jai-Key"',
    "      keys:",
    `        - { key-id: ops, key-value: "${KEY}", enabled: true, permissions: "chat,embedding" }`,
    `        - { key-id: legacy, key-value: "sk-legacy-key-0002", enabled: true, permissions: "read,write" }`,
    `        - { key-id: off, key-value: "sk-disabled-key-0003", enabled: false }`,
    `        - { key-id: unset, key-value: "sk-unset-key-0004" }`,
    "",
  ].join("\n")));
  const auth = config.auth;
  assert.equal(auth.enabled, true);
  assert.equal(auth.header, "x-jai-key");
  assert.deepEqual(auth.keys.map((k) => [k.name, k.services]), [["ops", ["chat", "embedding"]], [
    "legacy",
    undefined,
  ]]);
  assert.equal(auth.keys[0].keySha256, createHash("sha256").update(KEY).digest("hex"));
  assert.ok(!JSON.stringify(config).includes(KEY));
  assert.equal(findApiKey(headers({ "x-jai-key": KEY }), auth, 0)?.name, "ops");
  assert.equal(findApiKey(headers({ "x-jai-key": "sk-disabled-key-0003" }), auth, 0), undefined);
  assert.deepEqual(warnings.map((w) => w.message.replace(/ \(line \d+\)$/, "")), [
    'jairouter.security.api-key.keys[1].permissions grants "read", a legacy permission JAiRouter converts to every service: so does DAiRouter',
    "jairouter.security.api-key.keys[2] is not enabled (a JAiRouter key needs enabled: true): not accepted",
    "jairouter.security.api-key.keys[3] is not enabled (a JAiRouter key needs enabled: true): not accepted",
  ]);
});

Deno.test("jairouter.security.api-key honours JAiRouter's salted key-hash, expires-at and rate-limit-per-minute", () => {
  const salt = Buffer.from("0123456789abcdef");
  const hash = createHash("sha256").update(salt).update(KEY, "utf8").digest();
  const { config } = load(security([
    "    enabled: true",
    "    api-key:",
    "      keys:",
    `        - key-id: hashed`,
    `          key-hash: "${salt.toString("base64")}:${hash.toString("base64")}"`,
    "          enabled: true",
    "          permissions: [admin]",
    "          expires-at: 2026-06-01T00:00:00Z",
    "          rate-limit-per-minute: 30",
    "",
  ].join("\n")));
  const key = config.auth.keys[0];
  assert.equal(config.auth.header, undefined, "X-API-Key, JAiRouter's default header, is always accepted");
  assert.equal(key.expiresAt, Date.UTC(2026, 5, 1));
  assert.deepEqual([key.rateLimit?.algorithm, key.rateLimit?.capacity, key.rateLimit?.windowMs], [
    "fixed-window",
    30,
    60_000,
  ]);
  const before = Date.UTC(2026, 4, 31);
  assert.equal(findApiKey(headers({ "x-api-key": KEY }), config.auth, before)?.name, "hashed");
  assert.equal(findApiKey(headers({ authorization: `Bearer ${KEY}` }), config.auth, before)?.name, "hashed");
  assert.equal(findApiKey(headers({ "x-api-key": `${KEY}x` }), config.auth, before), undefined);
  assert.equal(
    findApiKey(headers({ "x-api-key": KEY }), config.auth, Date.UTC(2026, 5, 1)),
    undefined,
    "expired",
  );
});

Deno.test("jairouter.security that cannot be honoured refuses the start, naming key and line", () => {
  const err = fails(security([
    "    enabled: true", //                                                  8
    "    jwt:", //                                                           9
    "      enabled: true", //                                                10
    "      secret: ${JWT_SECRET:dev-secret-of-at-least-32-characters}", //   11
    "    sanitization:", //                                                  12
    "      response:", //                                                    13
    "        enabled: true", //                                              14
    "    api-key:", //                                                       15
    "      keys:", //                                                        16
    "        - key-id: a", //                                                17
    `          key-value: "${KEY}"`, //                                      18
    "          enabled: true", //                                            19
    "          allowed-ip-addresses: [10.0.0.1]", //                         20
    "          daily-request-limit: 1000", //                                21
    "",
  ].join("\n")));
  assert.deepEqual(err.problems.map((p) => [p.path, p.line]), [
    ["jairouter.security.jwt.enabled", 10],
    ["jairouter.security.sanitization.response.enabled", 14],
    ["jairouter.security.api-key.keys[0].allowed-ip-addresses", 20],
    ["jairouter.security.api-key.keys[0].daily-request-limit", 21],
  ]);
  assert.match(err.problems[1].message, /DAiRouter does not mask response bodies/);
});

Deno.test("jairouter.security off means no client authentication, as in JAiRouter; with keys it says so", () => {
  const { config, warnings } = load(security([
    "    api-key:",
    "      enabled: true",
    `      keys: [{ key-id: a, key-value: "${KEY}", enabled: true }]`,
    "    jwt: { enabled: true }",
    "",
  ].join("\n")));
  assert.equal(config.auth.enabled, false);
  assert.deepEqual(warnings.map((w) => w.path), [
    "jairouter.security.api-key",
    "jairouter.security.jwt.enabled",
  ]);
});

Deno.test("jairouter.security on with api-key disabled, or beside an auth block, is refused", () => {
  assert.match(
    fails(security("    enabled: true\n    api-key: { enabled: false }\n")).message,
    /api-key\.enabled is false while jairouter\.security\.enabled is true: no client could authenticate/,
  );
  const both = fails(
    security(
      `    enabled: true\n    api-key:\n      keys: [{ key-id: a, key-value: "${KEY}", enabled: true }]\n`,
    ) +
      `auth:\n  keys:\n    - { name: b, key: "sk-dairouter-0005" }\n`,
  );
  assert.match(
    both.message,
    /jairouter\.security\.enabled and auth both set up client authentication: keep one/,
  );
});

Deno.test("jairouter.security.api-key: a misspelt key is an error, JAiRouter's other sections warnings", () => {
  assert.match(
    fails(
      security(
        `    enabled: true\n    api-key:\n      keys: [{ key-id: a, key-valeu: "${KEY}", enabled: true }]\n`,
      ),
    ).message,
    /keys\[0\]\.key-valeu is an unknown key — did you mean key-value\?/,
  );
  const { warnings } = load(
    security("    audit: { enabled: true }\n    cache: { redis: { enabled: false } }\n"),
  );
  assert.deepEqual(warnings.map((w) => w.message), [
    "jairouter.security.audit is a JAiRouter setting DAiRouter does not use: ignored (line 8)",
    "jairouter.security.cache is a JAiRouter setting DAiRouter does not use: ignored (line 9)",
  ]);
});

Deno.test("instance-id is the instance's id and must be unique; status other than active takes it out", () => {
  const text = (second: string) =>
    [
      "model:",
      "  services:",
      "    chat:",
      "      instances:",
      "        - { name: a, base-url: http://127.0.0.1:1, instance-id: c09eb43b }",
      `        - { name: b, base-url: http://127.0.0.1:2, ${second} }`,
    ].join("\n");
  const { config } = load(text("instance-id: x-2, status: inactive"));
  assert.deepEqual(config.services.chat.instances.map((i) => [i.id, i.enabled]), [["c09eb43b", true], [
    "x-2",
    false,
  ]]);
  assert.equal(
    fails(text("instance-id: c09eb43b")).problems[0].text,
    'model.services.chat.instances[1].instance-id has the id "c09eb43b", already the id of ' +
      "model.services.chat.instances[0] on line 5; ids must be unique (line 6)",
  );
});

Deno.test("server.ssl that is on refuses the start; server.address is the listen host", () => {
  assert.match(
    fails(`${MODEL}server:\n  ssl:\n    key-store: classpath:ks.p12\n`).message,
    /server\.ssl turns on TLS, which DAiRouter does not terminate/,
  );
  const { config } = load(`${MODEL}server:\n  address: 127.0.0.1\n  ssl: { enabled: false }\n`);
  assert.equal(config.server.host, "127.0.0.1");
});

Deno.test("jairouter.security.api-key with every listed key disabled loads, refusing everyone: revoking the last key works", () => {
  const { config, warnings } = load(security([
    "    enabled: true",
    "    api-key:",
    "      keys:",
    `        - { key-id: ops, key-value: "${KEY}", enabled: false, permissions: admin }`,
    "",
  ].join("\n")));
  assert.equal(config.auth.enabled, true);
  assert.equal(findApiKey(headers({ "x-api-key": KEY }), config.auth, 0), undefined);
  assert.ok(
    warnings.some((w) => /keys lists no enabled key: every request is refused/.test(w.message)),
    JSON.stringify(warnings),
  );
  // No key listed at all is still a migration error (JAiRouter may keep them in its database).
  assert.match(
    fails(security("    enabled: true\n    api-key:\n      enabled: true\n")).message,
    /lists no enabled key/,
  );
});
