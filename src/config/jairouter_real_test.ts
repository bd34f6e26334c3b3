/**
 * JAiRouter's real, modular configuration tree (testdata/jairouter_real, copied unchanged from
 * Lincoln-cn/JAiRouter): `application.yml` has no `model:` and imports everything.
 */

import assert from "node:assert/strict";
import { withCopy } from "./_testing.ts";
import { ConfigError, loadConfigFile } from "./load.ts";

const REAL = new URL("./testdata/jairouter_real/", import.meta.url).pathname;

Deno.test("loadConfigFile() follows the real JAiRouter tree and refuses it only for its enabled JWT and key-less API keys", async () => {
  await assert.rejects(loadConfigFile(`${REAL}application.yml`, {}), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => [p.path, p.file, p.line]), [
      ["jairouter.security.jwt.enabled", "application-dev.yml", 62],
      ["jairouter.security.api-key.keys", "config/security/security-base.yml", 22],
    ]);
    assert.match(err.problems[0].message, /DAiRouter cannot verify JAiRouter's JWTs/);
    assert.doesNotMatch(err.message, /model is required/);
    return true;
  });
});

Deno.test("loadConfigFile() merges the real tree as Spring does once JWT is off and a key is listed", async () => {
  await withCopy(REAL, async (dir) => {
    await edit(`${dir}/application-dev.yml`, [
      ["    jwt:\n      enabled: true", "    jwt:\n      enabled: false"],
      [
        "    api-key:\n      enabled: true",
        "    api-key:\n      enabled: true\n      header-name: X-Jai-Key\n      keys:\n" +
        "        - key-id: ops\n          key-value: sk-ops-0123456789\n          enabled: true\n" +
        "          permissions: [chat, embedding]\n          expires-at: 2030-01-01T00:00:00Z",
      ],
    ]);
    const { config, warnings, files } = await loadConfigFile(`${dir}/application.yml`, {});
    assert.equal(
      files.length,
      27,
      "application.yml, its 25 classpath imports (no /app/config), application-dev.yml",
    );
    assert.equal(files.at(-1), "application-dev.yml");
    // config/base/model-services-base.yml is imported after config/router/services.yml, so its
    // lists win (Spring replaces lists whole), and its maps are merged over the other's.
    const chat = config.services.chat;
    assert.deepEqual(chat.instances.map((i) => [i.name, i.baseUrl, i.adapter]), [
      ["qwen3:4b", "http://172.16.30.6:9090", "gpustack"],
    ]);
    assert.equal(chat.loadBalance.type, "least-connections");
    assert.deepEqual([chat.rateLimit?.capacity, chat.rateLimit?.rate, chat.rateLimit?.clientIpEnable], [
      100,
      10,
      true,
    ]);
    assert.equal(config.services.embedding.circuitBreaker.failureThreshold, 10);
    assert.equal(config.services.rerank.fallback.strategy, "cache");
    assert.equal(config.server.port, 8080);
    assert.deepEqual(config.auth.keys.map((k) => [k.name, k.services, k.expiresAt]), [
      ["ops", ["chat", "embedding"], Date.UTC(2030, 0, 1)],
    ]);
    assert.equal(config.auth.header, "x-jai-key");
    assert.ok(!JSON.stringify(config).includes("sk-ops-0123456789"), "the config holds the digest only");
    const ignored = warnings.filter((w) => w.message.includes(": ignored")).map((w) => w.path);
    for (
      const section of [
        "spring",
        "logging",
        "management",
        "webclient",
        "store",
        "jairouter.tracing",
        "jairouter.security.audit",
      ]
    ) {
      assert.ok(ignored.includes(section), `${section} is reported as ignored`);
    }
  });
});

Deno.test("loadConfigFile() maps the real services.yml's instance-id as each instance's id", async () => {
  const { config } = await loadConfigFile(`${REAL}config/router/services.yml`, {});
  assert.deepEqual(config.services.chat.instances.map((i) => [i.id, i.adapter]), [
    ["c09eb43b-5084-48bb-8fc8-3e5ab2505c31", "ollama"],
  ]);
  assert.equal(config.services.embedding.instances[2].id, "418a9207-45aa-4607-8ebc-2de50b909015");
});

/** Replaces each `[from, to]` in the file, failing when `from` is not there. */
async function edit(path: string, changes: [string, string][]) {
  let text = await Deno.readTextFile(path);
  for (const [from, to] of changes) {
    assert.ok(text.includes(from), `${path} holds ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  await Deno.writeTextFile(path, text);
}
