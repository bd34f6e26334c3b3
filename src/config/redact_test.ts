import assert from "node:assert/strict";
import { parseConfig } from "./load.ts";
import { isSecretHeader, PUBLIC_HEADERS, redactConfig, redactUrl } from "./redact.ts";

const text = [
  "model:",
  "  services:",
  "    chat:",
  "      instances:",
  "        - name: m",
  "          base-url: http://user:pa55@127.0.0.1:1",
  "          api-key: sk-secret",
  "          headers: { Authorization: Bearer t0k, X-Api-Key: k3y, X-Tenant: blue, Cookie: c=1, Accept: text/plain }",
].join("\n");

Deno.test("redactConfig() replaces api keys, header values and URL passwords", () => {
  const { config } = parseConfig(text, { source: "x.yaml", env: {} });
  const shown = redactConfig(config) as { services: { chat: { instances: Record<string, unknown>[] } } };
  const inst = shown.services.chat.instances[0];
  assert.equal(inst.apiKey, "[redacted]");
  assert.equal(inst.baseUrl, "http://[redacted]@127.0.0.1:1");
  assert.equal(inst.id, "chat/m@http://127.0.0.1:1", "ids never carry credentials");
  assert.deepEqual(inst.headers, {
    Authorization: "[redacted]",
    "X-Api-Key": "[redacted]",
    "X-Tenant": "[redacted]",
    Cookie: "[redacted]",
    Accept: "text/plain",
  }, "every header name shown; values only of the public ones");
  const json = JSON.stringify(shown);
  for (const secret of ["sk-secret", "pa55", "t0k", "k3y", "c=1"]) assert.ok(!json.includes(secret), secret);
  assert.equal(config.services.chat.instances[0].apiKey, "sk-secret", "the config itself is untouched");
});

Deno.test("redactConfig() returns a JSON round-trippable copy of everything else", () => {
  const { config } = parseConfig(text, { source: "x.yaml", env: {} });
  const shown = redactConfig(config) as typeof config;
  assert.deepEqual(JSON.parse(JSON.stringify(shown)), shown);
  assert.deepEqual(shown.server, config.server);
  assert.deepEqual(shown.services.rerank, config.services.rerank);
  assert.ok(!Object.isFrozen(shown));
});

Deno.test("redactConfig() hides the value of every upstream header not known to be public", () => {
  // Credentials under names no pattern foresees (security review), and ordinary-looking names.
  const names = [
    "Ocp-Apim-Subscription-Key",
    "x-functions-key",
    "X-Subscription-Key",
    "X-Access-Key",
    "X-Key",
    "X-Signature",
    "X-Vault-Credential",
    "x-goog-api-key",
    "Private-Token",
    "X-Client-Secret",
    "x-aws-ec2-metadata",
    "X-Tenant",
    "X-Custom-Token",
    "Content-Type-Secret",
  ];
  const headers = Object.fromEntries(names.map((n, i) => [n, `SECRET-${i}`]));
  const yaml = "model:\n  services:\n    chat:\n      instances:\n        - name: m\n" +
    `          base-url: "http://127.0.0.1:1"\n          headers: ${JSON.stringify(headers)}\n`;
  const { config } = parseConfig(yaml, { source: "x.yaml", env: {} });
  const shown = redactConfig(config) as { services: { chat: { instances: { headers: object }[] } } };
  assert.deepEqual(
    shown.services.chat.instances[0].headers,
    Object.fromEntries(names.map((n) => [n, "[redacted]"])),
  );
  assert.ok(!JSON.stringify(shown).includes("SECRET-"));
});

Deno.test("redactConfig() shows the values of the public headers, whatever their case", () => {
  const headers = {
    "Content-Type": "application/json",
    accept: "application/json",
    "User-Agent": "dairouter-test",
    "X-Request-Id": "r-1",
    "anthropic-version": "2023-06-01",
    "OpenAI-Beta": "assistants=v2",
  };
  const yaml = "model:\n  services:\n    chat:\n      instances:\n        - name: m\n" +
    `          base-url: "http://127.0.0.1:1"\n          headers: ${JSON.stringify(headers)}\n`;
  const { config } = parseConfig(yaml, { source: "x.yaml", env: {} });
  const shown = redactConfig(config) as { services: { chat: { instances: { headers: object }[] } } };
  assert.deepEqual(shown.services.chat.instances[0].headers, headers);
});

Deno.test("isSecretHeader() is deny-by-default: only the short public list is not secret", () => {
  assert.deepEqual(
    ["authorization", "Proxy-Authorization", "x-auth-token", "api-key", "X-Secret", "X-Tenant", "X-Signature"]
      .map(
        isSecretHeader,
      ),
    [true, true, true, true, true, true, true],
  );
  assert.deepEqual(["Accept", "CONTENT-TYPE", "user-agent", "X-Request-ID"].map(isSecretHeader), [
    false,
    false,
    false,
    false,
  ]);
  for (const name of PUBLIC_HEADERS) {
    assert.equal(name, name.toLowerCase(), "the list is kept in lower case");
    assert.ok(!/auth|key|token|secret|passw|cookie|sign|cred/i.test(name), `${name} looks like a secret`);
  }
  assert.ok(PUBLIC_HEADERS.size <= 16, "a short list");
});

Deno.test("redactUrl() hides any userinfo: a username alone, a password holding an @", () => {
  assert.equal(redactUrl("http://sk-tok3n-9@127.0.0.1:1/v1"), "http://[redacted]@127.0.0.1:1/v1");
  assert.equal(redactUrl("http://u:p@ss@127.0.0.1:1"), "http://[redacted]@127.0.0.1:1");
  assert.equal(redactUrl("http://127.0.0.1:1/?mail=a@b"), "http://127.0.0.1:1/?mail=a@b");
});
