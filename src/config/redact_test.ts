import assert from "node:assert/strict";
import { parseConfig } from "./load.ts";
import { isSecretHeader, redactConfig, redactUrl } from "./redact.ts";

const text = [
  "model:",
  "  services:",
  "    chat:",
  "      instances:",
  "        - name: m",
  "          base-url: http://user:pa55@127.0.0.1:1",
  "          api-key: sk-secret",
  "          headers: { Authorization: Bearer t0k, X-Api-Key: k3y, X-Tenant: blue, Cookie: c=1 }",
].join("\n");

Deno.test("redactConfig() replaces api keys, secret headers and URL passwords", () => {
  const { config } = parseConfig(text, { source: "x.yaml", env: {} });
  const shown = redactConfig(config) as { services: { chat: { instances: Record<string, unknown>[] } } };
  const inst = shown.services.chat.instances[0];
  assert.equal(inst.apiKey, "[redacted]");
  assert.equal(inst.baseUrl, "http://[redacted]@127.0.0.1:1");
  assert.equal(inst.id, "chat/m@http://127.0.0.1:1", "ids never carry credentials");
  assert.deepEqual(inst.headers, {
    Authorization: "[redacted]",
    "X-Api-Key": "[redacted]",
    "X-Tenant": "blue",
    Cookie: "[redacted]",
  });
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

Deno.test("isSecretHeader() judges by name", () => {
  assert.deepEqual(
    ["authorization", "Proxy-Authorization", "x-auth-token", "api-key", "X-Secret", "Accept", "X-Tenant"].map(
      isSecretHeader,
    ),
    [true, true, true, true, true, false, false],
  );
});

Deno.test("redactUrl() hides any userinfo: a username alone, a password holding an @", () => {
  assert.equal(redactUrl("http://sk-tok3n-9@127.0.0.1:1/v1"), "http://[redacted]@127.0.0.1:1/v1");
  assert.equal(redactUrl("http://u:p@ss@127.0.0.1:1"), "http://[redacted]@127.0.0.1:1");
  assert.equal(redactUrl("http://127.0.0.1:1/?mail=a@b"), "http://127.0.0.1:1/?mail=a@b");
});
