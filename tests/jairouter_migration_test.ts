/**
 * A JAiRouter user's real configuration tree, through the real CLI and a real gateway process:
 * `check` follows its imports and refuses what cannot be honoured (naming file and line); once
 * migrated (JWT off, keys listed), its API keys guard the gateway under the configured header name.
 */

import assert from "node:assert/strict";
import { withCopy } from "../src/config/_testing.ts";
import { postChat } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { runCli, spawnGateway } from "./fakes/process.ts";

const REAL = new URL("../src/config/testdata/jairouter_real/", import.meta.url).pathname;

Deno.test("check: JAiRouter's real tree loads through its imports and is refused for JWT, with file and line", async () => {
  const res = await runCli(["check", "--config", `${REAL}application.yml`]);
  assert.equal(res.code, 1, res.stderr);
  assert.match(
    res.stderr,
    /jairouter\.security\.jwt\.enabled is true: DAiRouter cannot verify JAiRouter's JWTs.*\(line 62 of application-dev\.yml\)/,
  );
  assert.doesNotMatch(res.stderr, /model is required/);
});

Deno.test("check: typos exit 1 with a suggestion; --strict turns JAiRouter/Spring warnings into errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const typo = `${dir}/typo.yaml`;
    await Deno.writeTextFile(
      typo,
      "model:\n  services:\n    chat:\n      instances:\n        - { name: a, base-url: http://127.0.0.1:1, wieght: 3 }\n",
    );
    const bad = await runCli(["check", "--config", typo]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /instances\[0\]\.wieght is an unknown key — did you mean weight\? \(line 5\)/);

    const spring = `${dir}/spring.yaml`;
    await Deno.writeTextFile(spring, "logging: { level: { root: INFO } }\nmodel:\n  adapter: ollama\n");
    const lax = await runCli(["check", "--config", spring]);
    assert.equal(lax.code, 0, lax.stderr);
    assert.match(lax.stderr, /^warning: logging is a Spring Boot setting/m);
    const strict = await runCli(["check", "--strict", "--config", spring]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /^error: logging is a Spring Boot setting/m);
    assert.match(strict.stderr, /1 warnings are errors under --strict/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gateway: a migrated JAiRouter tree with api-key on refuses requests without the key, under its header name", async () => {
  const up = startFakeUpstream({ name: "gpustack" });
  const host = new URL(up.url).host;
  try {
    // The real tree, its private hosts pointed at the fake; JWT turned off and keys listed, as the
    // migration note says. Everything else is JAiRouter's own files, unchanged.
    const rewrite = (text: string) =>
      text.replaceAll("172.16.30.6:9090", host).replaceAll("172.16.30.6:12434", host);
    await withCopy(REAL, async (dir) => {
      const dev = `${dir}/application-dev.yml`;
      let text = await Deno.readTextFile(dev);
      text = text.replace("    jwt:\n      enabled: true", "    jwt:\n      enabled: false");
      text = text.replace(
        "    api-key:\n      enabled: true",
        [
          "    api-key:",
          "      enabled: true",
          '      header-name: "X-Jai-Key"',
          "      keys:",
          '        - { key-id: ops, key-value: "sk-ops-0123456789", enabled: true, permissions: "chat" }',
          '        - { key-id: old, key-value: "sk-old-0123456789", enabled: true, permissions: "chat", expires-at: "2020-01-01 00:00:00" }',
          '        - { key-id: emb, key-value: "sk-emb-0123456789", enabled: true, permissions: "embedding" }',
        ].join("\n"),
      );
      await Deno.writeTextFile(dev, `${text}\nmodel:\n  health-check: { enabled: false }\n`);
      const gw = await spawnGateway(["--config", `${dir}/application.yml`]);
      try {
        const chat = (headers: Record<string, string>) => postChat(gw.url, { model: "qwen3:4b", headers });
        const statusOf = async (headers: Record<string, string>) => {
          const res = await chat(headers);
          await res.body?.cancel();
          return res.status;
        };
        assert.equal(await statusOf({}), 401, "no key");
        assert.equal(await statusOf({ "X-Jai-Key": "sk-wrong-0123456789" }), 401, "wrong key");
        assert.equal(await statusOf({ "X-Jai-Key": "sk-old-0123456789" }), 401, "expired key");
        assert.equal(
          await statusOf({ "X-Jai-Key": "sk-emb-0123456789" }),
          403,
          "key without the chat permission",
        );
        const before = up.requests.length;
        const ok = await chat({ "X-Jai-Key": "sk-ops-0123456789" });
        assert.equal(ok.status, 200, await ok.clone().text());
        await ok.body?.cancel();
        assert.equal(await statusOf({ authorization: "Bearer sk-ops-0123456789" }), 200, "Bearer works too");
        assert.equal(up.requests.length, before + 2, "only the admitted requests reached the upstream");
        const seen = up.requests[before].headers;
        assert.equal(seen.get("x-jai-key"), null, "the client's key stays at the gateway");
      } finally {
        gw.kill("SIGTERM");
        await gw.exited;
      }
    }, rewrite);
  } finally {
    await up.close();
  }
});

Deno.test("gateway: JAiRouter security written with dotted keys and another case guards the gateway", async () => {
  // Spring's relaxed binding reads both spellings; until they were expanded, this file ran open.
  const up = startFakeUpstream({ name: "vllm" });
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/application.yml`;
    await Deno.writeTextFile(
      file,
      [
        "model:",
        "  health-check: { enabled: false }",
        "  services:",
        "    chat:",
        `      instances: [{ name: m, base-url: "${up.url}" }]`,
        "jairouter.security.enabled: true",
        "jairouter.security.API-Key.Keys:",
        '  - { Key-Id: ops, key_value: "sk-dotted-0123456789", ENABLED: true, permissions: admin }',
        "",
      ].join("\n"),
    );
    const gw = await spawnGateway(["--config", file]);
    try {
      const statusOf = async (headers: Record<string, string>) => {
        const res = await postChat(gw.url, { model: "m", headers });
        await res.body?.cancel();
        return res.status;
      };
      assert.equal(await statusOf({}), 401, "no key");
      assert.equal(await statusOf({ "X-API-Key": "sk-dotted-0123456789" }), 200, "the listed key");
    } finally {
      gw.kill("SIGTERM");
      await gw.exited;
    }
  } finally {
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
});
