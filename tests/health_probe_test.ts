/**
 * Health probes end to end (issue 11, item 9) through a real gateway and real upstream sockets:
 * a probe that 404s does not eject a working instance (JAiRouter's own `adapter: gpustack` example
 * in front of an OpenAI-compatible server), a dead one is ejected; `type: tcp` and `type: none`;
 * a failing probe cannot eject an instance whose live requests succeed; and the log level of each
 * state change (ejection warn, recovery info).
 */

import assert from "node:assert/strict";
import { eventually, postChat, startGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";

const chat = (url: string, model: string) => postChat(url, { model });

/** A port that was just listening and is now closed: connecting to it is refused. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

const logLine = (logs: string[], msg: string) =>
  logs.map((l) => JSON.parse(l)).find((l) => l.msg === msg) as Record<string, unknown> | undefined;

Deno.test("a probe path that 404s does not eject a working instance (gpustack adapter on an OpenAI server); a dead one is ejected", async () => {
  const up = startFakeUpstream({ name: "A" });
  const dead = `http://127.0.0.1:${closedPort()}`;
  // JAiRouter's example: `adapter: gpustack` globally, instances with an explicit OpenAI `path`.
  // GPUStack's probe path /v1-openai/models does not exist on this server: it answers 404.
  const gw = startGateway(
    `
model:
  adapter: gpustack
  health-check: { interval: 30, timeout: 500, unhealthy-threshold: 1 }
  services:
    chat:
      instances:
        - { name: m, base-url: "${up.url}", path: /v1/chat/completions }
        - { name: m, base-url: "${dead}", path: /v1/chat/completions }
`,
    { probes: true },
  );
  const [live, down] = gw.gateway.runtime().upstreams;
  const probes = () => up.requests.filter((r) => r.path === "/v1-openai/models").length;
  try {
    await eventually(() => !down.health.healthy, "the dead instance ejected");
    await eventually(() => probes() >= 4, "four probe rounds answered 404");
    assert.equal(live.health.healthy, true, "404 means the server answered: alive");
    for (let i = 0; i < 4; i++) {
      const res = await chat(gw.url, "m");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-upstream-name"), "A");
      await res.body?.cancel();
    }
    assert.match(down.health.snapshot().reason, /probe failures/);
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("health-check path and expect-status per instance: a 2xx-only probe on a 404 path ejects", async () => {
  const up = startFakeUpstream({ name: "A" });
  const gw = startGateway(
    `
model:
  health-check: { interval: 30, timeout: 500, unhealthy-threshold: 1 }
  services:
    chat:
      health-check: { path: /nope }
      instances:
        - { name: lenient, base-url: "${up.url}" }
        - name: strict
          base-url: "${up.url}"
          health-check: { expect-status: 2xx }
        - name: own-path
          base-url: "${up.url}"
          health-check: { path: /health, method: HEAD, expect-status: 200 }
`,
    { probes: true },
  );
  const [lenient, strict, ownPath] = gw.gateway.runtime().upstreams;
  try {
    await eventually(() => !strict.health.healthy, "the 2xx-only instance ejected by its 404 probe");
    await eventually(
      () => up.requests.filter((r) => r.method === "HEAD" && r.path === "/health").length >= 3,
      "three HEAD /health probes",
    );
    assert.equal(lenient.health.healthy, true);
    assert.equal(ownPath.health.healthy, true);
    assert.match(strict.health.snapshot().reason, /HTTP 404/);
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("type tcp probes the base URL's port: a server answering 500 everywhere stays in, a closed port is ejected", async () => {
  const up = startFakeUpstream({ name: "A" });
  up.fault = { kind: "status", status: 500 };
  const gw = startGateway(
    `
model:
  health-check: { type: tcp, interval: 30, timeout: 500, unhealthy-threshold: 1 }
  services:
    chat:
      instances:
        - { name: m, base-url: "${up.url}" }
        - { name: m, base-url: "http://127.0.0.1:${closedPort()}" }
        - name: unprobed
          base-url: "http://127.0.0.1:${closedPort()}"
          health-check: { type: none }
`,
    { probes: true },
  );
  const [open, closed, unprobed] = gw.gateway.runtime().upstreams;
  try {
    await eventually(() => !closed.health.healthy, "the closed port ejected");
    // Several rounds later the open port is still in, although every HTTP request would get 500.
    const transitions = closed.health.snapshot().transitions;
    await eventually(() => closed.health.snapshot().probeFailures >= 3, "three more failing rounds");
    assert.equal(open.health.healthy, true);
    assert.equal(up.requests.length, 0, "a TCP probe sends no HTTP request");
    assert.equal(closed.health.snapshot().transitions, transitions);
    assert.equal(unprobed.health.healthy, true, "type none: never probed");
    assert.match(closed.health.snapshot().reason, /refused|connect/i);
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("a failing probe does not eject an instance serving live traffic; once traffic stops, it does", async () => {
  // Serves chat but its probe path fails with 503 (a misconfigured or overloaded probe endpoint).
  let probes = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (new URL(req.url).pathname === "/health") {
      probes++;
      return new Response("probe says no", { status: 503 });
    }
    return Response.json({
      id: "c1",
      object: "chat.completion",
      created: 0,
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    });
  });
  let now = 1_000_000;
  const gw = startGateway(
    `
model:
  health-check: { path: /health, interval: 30, timeout: 500, unhealthy-threshold: 2 }
  services:
    chat:
      instances:
        - { name: m, base-url: "http://127.0.0.1:${server.addr.port}" }
`,
    { clock: () => now },
  );
  const u = gw.gateway.runtime().upstreams[0];
  try {
    const res = await chat(gw.url, "m");
    assert.equal(res.status, 200);
    await res.body?.cancel();
    gw.gateway.startProbes();
    // The live success is "recent" for interval × unhealthy-threshold = 60 ms of gateway clock.
    await eventually(() => probes >= 4, "four failing probes");
    assert.equal(u.health.healthy, true, "live traffic outranks the probe");
    const kept = logLine(
      gw.logs,
      "health probe failing, instance kept: live requests succeed (check its health-check)",
    );
    assert.equal(kept?.level, "warn");
    assert.match(String(kept?.reason), /2 consecutive probe failures \(last: HTTP 503\); kept/);
    now += 61; // no live request for longer than the grace
    await eventually(() => !u.health.healthy, "ejected once live traffic stopped");
    const refused = await chat(gw.url, "m");
    assert.equal(refused.status, 503);
    await refused.body?.cancel();
  } finally {
    await gw.close();
    await server.shutdown();
  }
});

Deno.test("an ejection is logged at warn, a recovery at info", async () => {
  const a = startFakeUpstream({ name: "A" });
  let b = startFakeUpstream({ name: "B" });
  const port = b.port;
  const gw = startGateway(
    `
model:
  health-check: { type: tcp, interval: 30, timeout: 500, unhealthy-threshold: 1, healthy-threshold: 1 }
  services:
    embedding:
      instances:
        - { name: e, base-url: "${a.url}" }
        - { name: e, base-url: "${b.url}" }
`,
    { probes: true },
  );
  const bState = gw.gateway.runtime().upstreams[1].health;
  try {
    await b.close();
    await eventually(() => !bState.healthy, "B ejected");
    b = startFakeUpstream({ name: "B", port });
    await eventually(() => bState.healthy, "B readmitted");
    assert.equal(logLine(gw.logs, "instance ejected")?.level, "warn");
    assert.equal(logLine(gw.logs, "instance recovered")?.level, "info");
  } finally {
    await gw.close();
    await a.close();
    await b.close().catch(() => {});
  }
});
