/**
 * `state.backend: kv`: an open breaker stays open and a drained bucket stays drained across a
 * restart of the real process.
 */

import assert from "node:assert/strict";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { spawnGateway } from "./fakes/process.ts";

Deno.test("with Deno KV state, an open breaker and a drained bucket survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dairouter-kv-" });
  const broken = startFakeUpstream({ name: "broken" });
  const fine = startFakeUpstream({ name: "fine" });
  broken.fault = { kind: "status", status: 500 };
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    path,
    `
server:
  drain-delay: 0
state:
  backend: kv
  path: ${dir}/state.kv
  flush-interval: 100
model:
  health-check:
    enabled: false
  circuit-breaker:
    failure-threshold: 1
    timeout: 600000
  services:
    chat:
      instances:
        - { name: "b", base-url: "${broken.url}" }
    embedding:
      rate-limit:
        capacity: 2
        rate: 0.001
      instances:
        - { name: "e", base-url: "${fine.url}" }
`,
  );
  const post = (url: string, path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  try {
    let gw = await spawnGateway(["--config", path, "--no-watch"]);
    assert.equal((await post(gw.url, "/v1/chat/completions", { model: "b", messages: [] })).status, 502);
    for (let i = 0; i < 2; i++) {
      await (await post(gw.url, "/v1/embeddings", { model: "e", input: "x" })).arrayBuffer();
    }
    gw.kill("SIGTERM");
    assert.equal(await gw.exited, 0);

    gw = await spawnGateway(["--config", path, "--no-watch"]);
    try {
      await gw.waitFor(/"msg":"state restored"/);
      const status = await (await fetch(`${gw.url}/v1/chat/status`)).json();
      assert.equal(status.instances[0].breaker, "open");
      const chat = await post(gw.url, "/v1/chat/completions", { model: "b", messages: [] });
      assert.equal(chat.status, 503);
      await chat.body?.cancel();
      assert.equal(broken.requests.length, 1, "the open breaker kept traffic away after the restart");
      const emb = await post(gw.url, "/v1/embeddings", { model: "e", input: "x" });
      assert.equal(emb.status, 429, "the drained bucket is still drained");
      await emb.body?.cancel();
    } finally {
      gw.kill("SIGTERM");
      await gw.exited;
    }
  } finally {
    await broken.close();
    await fine.close();
    await Deno.remove(dir, { recursive: true });
  }
});
