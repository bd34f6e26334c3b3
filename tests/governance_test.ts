/**
 * Governance through the running gateway: client-IP limits behind a trusted proxy, a gateway-wide
 * limit, a true sliding window, warm-up, and active health checks that eject a dead instance and
 * readmit it within one probe interval.
 */

import assert from "node:assert/strict";
import { manualClock } from "./fakes/manual_schedule.ts";
import { eventually, startGateway } from "./fakes/gateway.ts";
import { type FakeUpstream, startFakeUpstream } from "./fakes/openai_upstream.ts";

const embed = (url: string, headers: Record<string, string> = {}, model = "e") =>
  fetch(`${url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, input: "x" }),
  }).then(async (r) => new Response(await r.text(), { status: r.status, headers: r.headers }));

function yaml(up: FakeUpstream, limits: string, top = "") {
  return `
${top}
model:
  health-check:
    enabled: false
${limits}
  services:
    embedding:
      instances:
        - { name: "e", base-url: "${up.url}" }
    rerank:
      instances:
        - { name: "r", base-url: "${up.url}" }
`;
}

Deno.test("client-ip limits use X-Forwarded-For only from a trusted proxy, one bucket per client", async () => {
  const up = startFakeUpstream({ name: "A" });
  const gw = startGateway(
    `
server:
  trusted-proxies: ["127.0.0.0/8"]
model:
  health-check: { enabled: false }
  services:
    embedding:
      rate-limit: { capacity: 3, rate: 0.001, scope: client-ip }
      instances:
        - { name: e, base-url: "${up.url}" }
`,
    { clock: manualClock() },
  );
  try {
    // scope client-ip: each client has its own bucket of 3 and there is no shared one.
    assert.equal((await embed(gw.url, { "x-forwarded-for": "1.1.1.1" })).status, 200);
    assert.equal((await embed(gw.url, { "x-forwarded-for": "9.9.9.9, 1.1.1.1" })).status, 200);
    assert.equal((await embed(gw.url, { "x-forwarded-for": "1.1.1.1" })).status, 200);
    const denied = await embed(gw.url, { "x-forwarded-for": "1.1.1.1" });
    assert.equal(denied.status, 429, "client 1.1.1.1 used its 3");
    assert.match((await denied.json()).error.message, /client-ip of service embedding/);
    assert.equal(
      (await embed(gw.url, { "x-forwarded-for": "2.2.2.2" })).status,
      200,
      "another client has its own",
    );
    assert.equal(up.requests.at(-1)?.headers.get("x-forwarded-for"), "2.2.2.2, 127.0.0.1");
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("a global-scope limit is one bucket for the whole gateway", async () => {
  const up = startFakeUpstream({ name: "A" });
  const gw = startGateway(yaml(up, "  rate-limit:\n    capacity: 2\n    rate: 0.001\n    scope: global"), {
    clock: manualClock(),
  });
  try {
    assert.equal((await embed(gw.url)).status, 200);
    const rr = await fetch(`${gw.url}/v1/rerank`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "r", query: "q", documents: ["a"] }),
    });
    assert.equal(rr.status, 200);
    await rr.body?.cancel();
    const denied = await embed(gw.url);
    assert.equal(denied.status, 429);
    assert.match(gw.logs.at(-1) ?? "", /rate_limit_exceeded/);
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("sliding window: no double burst across a window boundary", async () => {
  const up = startFakeUpstream({ name: "A" });
  const clock = manualClock();
  const limits = "  rate-limit:\n    algorithm: sliding-window\n    capacity: 2\n    window: 1000";
  const gw = startGateway(yaml(up, limits), { clock });
  try {
    clock.advance(900);
    assert.equal((await embed(gw.url)).status, 200);
    assert.equal((await embed(gw.url)).status, 200);
    clock.advance(200); // a fixed window would have reset here
    const denied = await embed(gw.url);
    assert.equal(denied.status, 429);
    assert.equal(denied.headers.get("retry-after"), "1");
    clock.advance(800);
    assert.equal((await embed(gw.url)).status, 200);
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("warm-up: a limiter starts at a fraction of its capacity and ramps to full", async () => {
  const up = startFakeUpstream({ name: "A" });
  const clock = manualClock();
  const limits =
    "  rate-limit:\n    capacity: 4\n    rate: 1\n    warm-up:\n      period: 10000\n      initial-fraction: 0.5";
  const gw = startGateway(yaml(up, limits), { clock });
  try {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await embed(gw.url)).status);
    assert.deepEqual(statuses, [200, 200, 429], "half of capacity 4 while cold");
    clock.advance(10_000);
    const warm = [];
    for (let i = 0; i < 5; i++) warm.push((await embed(gw.url)).status);
    assert.deepEqual(warm, [200, 200, 200, 200, 429], "full capacity once warm");
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("active health: a dead instance stops receiving traffic within one probe interval, and comes back", async () => {
  const a = startFakeUpstream({ name: "A" });
  let b = startFakeUpstream({ name: "B" });
  const port = b.port;
  const gw = startGateway(
    `
model:
  health-check:
    interval: 100
    timeout: 100
    unhealthy-threshold: 1
    healthy-threshold: 1
  load-balance: { type: round-robin }
  services:
    embedding:
      instances:
        - { name: "e", base-url: "${a.url}" }
        - { name: "e", base-url: "${b.url}" }
`,
    { probes: true },
  );
  const bState = () => gw.gateway.runtime().upstreams[1].health;
  try {
    await b.close();
    await eventually(() => !bState().healthy, "B ejected by the prober", 1000);
    for (let i = 0; i < 4; i++) assert.equal((await embed(gw.url)).headers.get("x-upstream-name"), "A");
    b = startFakeUpstream({ name: "B", port });
    await eventually(() => bState().healthy, "B readmitted by the prober", 1000);
    const names = new Set<string | null>();
    for (let i = 0; i < 4; i++) names.add((await embed(gw.url)).headers.get("x-upstream-name"));
    assert.deepEqual([...names].sort(), ["A", "B"]);
    assert.ok(
      gw.logs.some((l) => l.includes("instance ejected")) &&
        gw.logs.some((l) => l.includes("instance recovered")),
    );
  } finally {
    await gw.close();
    await a.close();
    await b.close().catch(() => {});
  }
});
