/**
 * SIGTERM on a real gateway process (issue 11, item 13): `/readyz` answers 503 at once while new
 * connections are still accepted and served for `server.drain-delay`; then the listener closes;
 * a stream still running at `server.shutdown-timeout` ends with an SSE error event (not a reset),
 * its upstream is aborted, every in-flight count is released, and the process exits 0.
 */

import assert from "node:assert/strict";
import { eventually, postChat, startGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { spawnGateway } from "./fakes/process.ts";

const DRAIN_DELAY_MS = 3000;
const SHUTDOWN_TIMEOUT_MS = 1000;

/** One request on a connection of its own, so it proves the listener still accepts. */
async function freshFetch(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const res = await fetch(url, { ...init, client });
    return { status: res.status, body: await res.text() };
  } finally {
    client.close();
  }
}

/** The `data:` payloads of an SSE text. */
const events = (text: string) =>
  text.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));

Deno.test("SIGTERM: /readyz 503 and requests still served for drain-delay, then refused; a stream cut at the deadline ends with an SSE error event", async () => {
  // A stream of 200 chunks 50 ms apart (10 s): it will outlive drain-delay + shutdown-timeout.
  const up = startFakeUpstream({ name: "A", streamChunks: 200, chunkDelayMs: 50 });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-drain-" });
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    config,
    `
log: { level: info, format: json }
server:
  drain-delay: ${DRAIN_DELAY_MS}
  shutdown-timeout: ${SHUTDOWN_TIMEOUT_MS}
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "${up.url}" }
`,
  );
  const gw = await spawnGateway(["--config", config, "--no-watch"]);
  const chat = (stream: boolean) => ({
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream, messages: [{ role: "user", content: "hi" }] }),
  });
  try {
    const long = await fetch(`${gw.url}/v1/chat/completions`, chat(true));
    assert.equal(long.status, 200);
    const reader = long.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? "";

    gw.kill("SIGTERM");
    await gw.waitFor(/"msg":"draining"/);
    const ready = await freshFetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 503, "not ready at once");
    assert.equal(JSON.parse(ready.body).status, "draining");
    const served = await freshFetch(`${gw.url}/v1/chat/completions`, chat(false));
    assert.equal(served.status, 200, "a new connection during the delay is accepted and served");
    assert.ok(
      !gw.lines.some((l) => l.includes("listener closed")),
      "both answers came within the drain delay (raise DRAIN_DELAY_MS if this machine is slower)",
    );

    await gw.waitFor(/"msg":"listener closed; waiting for in-flight requests"/);
    const { port } = new URL(gw.url);
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port: Number(port) }),
      Deno.errors.ConnectionRefused,
      "after the delay new connections are refused",
    );

    // The stream outlives the deadline: it must end cleanly with an error event, not a reset.
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
    const data = events(text);
    const last = JSON.parse(data.at(-1)!);
    assert.deepEqual(last, {
      error: {
        message: "The gateway is shutting down; the request was cut at its shutdown deadline.",
        type: "server_error",
        code: "gateway_shutdown",
      },
    });
    assert.ok(!data.includes("[DONE]"), "a cut stream does not claim to be complete");
    assert.ok(data.length > 10 && data.length < 200, `some chunks, not all (${data.length})`);

    assert.equal(await gw.exited, 0);
    const line = (msg: string) => JSON.parse(gw.lines.find((l) => l.includes(`"msg":"${msg}"`))!);
    assert.equal(line("shutdown deadline reached; cutting in-flight requests").inFlight, 1);
    const stopped = line("stopped");
    assert.deepEqual([stopped.result, stopped.inFlight], ["cut", 0], "every in-flight count released once");
    const access = gw.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "access");
    assert.deepEqual(access.map((a) => [a.stream, a.status, a.error ?? null]), [
      [false, 200, null],
      [true, 200, "shutdown"],
    ]);
    assert.equal(up.aborted, 1, "the upstream stream was aborted, not left running");
  } finally {
    try {
      gw.kill("SIGKILL");
    } catch { /* already exited */ }
    await gw.exited;
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cut(): a request still waiting for its upstream gets a 503 gateway_shutdown; no instance is blamed", async () => {
  const up = startFakeUpstream({ name: "A", streamChunks: 100, chunkDelayMs: 20 });
  const gw = startGateway(`
model:
  health-check: { passive-failures: 1 }
  circuit-breaker: { failure-threshold: 1 }
  services:
    chat:
      instances:
        - { name: m, base-url: "${up.url}" }
`);
  const u = gw.gateway.runtime().upstreams[0];
  const post = (stream: boolean) => postChat(gw.url, { body: { stream } });
  try {
    const streaming = await post(true);
    const reader = streaming.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? "";
    up.fault = { kind: "hang" };
    const waiting = post(false);
    await eventually(() => gw.gateway.inFlight() === 2, "both requests in flight");

    assert.equal(gw.gateway.cut(), 2);
    const res = await waiting;
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, "gateway_shutdown");
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    assert.equal(JSON.parse(events(text).at(-1)!).error.code, "gateway_shutdown");

    assert.equal(gw.gateway.inFlight(), 0);
    assert.equal(u.health.healthy, true, "the gateway gave up, not the instance");
    assert.equal(u.breaker.state, "closed");
    const late = await post(false);
    assert.equal(late.status, 503, "after the cut nothing new starts");
    assert.equal((await late.json()).error.code, "gateway_shutdown");
    const ready = await fetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 503);
    await ready.body?.cancel();
  } finally {
    up.fault = { kind: "none" };
    await gw.close();
    await up.close();
  }
});
