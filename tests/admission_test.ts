/**
 * The admission queue and token limits through real sockets against fake engines: under a burst,
 * `max-concurrency` is never exceeded (counted at the engines), every request is served in turn,
 * priorities, `max-wait` and client aborts hold, a gated engine's queue stays bounded; and token
 * limits charge what the engines report, streams included.
 */
import assert from "node:assert/strict";
import { generateDirectly, startFakeEngine } from "./fakes/fake_engine.ts";
import { eventually, startGateway } from "./fakes/gateway.ts";

const gatewayYaml = (urls: string[], service: string, instance = "", top = "") => `
${top}
model:
  services:
    chat:
      load-balance: { type: least-connections }
      health-check: { enabled: false }
${service}
      instances:
${urls.map((u) => `        - { name: qwen, base-url: "${u}", adapter: vllm${instance} }`).join("\n")}
`;

function post(url: string, body: Record<string, unknown>, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    ...init,
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify({ model: "qwen", messages: [{ role: "user", content: "hi" }], ...body }),
  });
}

Deno.test("admission: under a burst of 40, max-concurrency is never exceeded at either engine", async () => {
  const engines = [0, 1].map(() => startFakeEngine({ model: "qwen", maxBatch: 8, decodeMsPerToken: 2 }));
  const gw = startGateway(
    gatewayYaml(
      engines.map((e) => e.url),
      "      queue: { max-size: 100, max-wait: 60s }",
      ", max-concurrency: 3",
    ),
  );
  const burst = (n: number, leaving: (i: number) => boolean) =>
    Promise.all(Array.from({ length: n }, async (_, i) => {
      const stream = i % 2 === 0;
      const client = new AbortController();
      const res = await post(gw.url, { stream, max_tokens: 10 + (i % 7) }, { signal: client.signal });
      assert.equal(res.status, 200);
      if (!stream || !leaving(i)) return void await res.text();
      // This client leaves mid-stream: its slot must come back all the same.
      const reader = res.body!.getReader();
      await reader.read();
      client.abort();
      await reader.cancel().catch(() => {});
    }));
  try {
    await burst(40, () => false);
    await eventually(() => gw.gateway.inFlight() === 0, "every slot released");
    for (const e of engines) assert.equal(e.peakActive, 3, "each engine kept full, never above 3");
    assert.equal(engines[0].requests + engines[1].requests, 40);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /dairouter_queue_depth\{service="chat"\} 0/);
    const served = /dairouter_queue_wait_seconds_count\{service="chat",outcome="served"\} (\d+)/.exec(
      metrics,
    );
    assert.ok(Number(served?.[1]) >= 30, `${served?.[1]} requests waited for a slot`);
    // Clients leaving mid-stream give their slots back: a second burst is served to the end. (An
    // engine may count an aborted stream for a moment after the gateway has handed its slot on,
    // until it notices the closed connection, so peaks are not asserted here.)
    await burst(20, (i) => i % 4 === 0);
    await eventually(() => gw.gateway.inFlight() === 0, "every slot released after the aborts");
    assert.equal(gw.gateway.state.budgets.get("chat")!.depth, 0);
  } finally {
    await gw.close();
    for (const e of engines) await e.close();
  }
});

Deno.test("admission: priority order, a client that leaves at once, and max-wait's 503", async () => {
  const engine = startFakeEngine({ model: "qwen", maxBatch: 8, decodeMsPerToken: 25 });
  const gw = startGateway(
    gatewayYaml(
      [engine.url],
      "      queue: { max-size: 10, max-wait: 30s, priority: header:X-Priority }",
      ", max-concurrency: 1",
    ),
  );
  const depth = () => gw.gateway.state.budgets.get("chat")!.depth;
  try {
    const holder = await post(gw.url, { user: "holder", stream: true, max_tokens: 40 }); // ~1 s
    const queued = (user: string, priority: string, signal?: AbortSignal) =>
      post(gw.url, { user, max_tokens: 1 }, { headers: { "x-priority": priority }, signal });
    const low = queued("low", "1");
    await eventually(() => depth() === 1, "low queued");
    const leaver = new AbortController();
    const leaving = queued("leaver", "9", leaver.signal).catch((e) => e);
    await eventually(() => depth() === 2, "leaver queued");
    const high = queued("high", "5");
    await eventually(() => depth() === 3, "high queued");
    leaver.abort();
    await eventually(() => depth() === 2, "the leaver left the queue at once, the holder still streaming");
    assert.ok((await leaving) instanceof DOMException);
    await holder.text();
    assert.equal((await high).status, 200);
    assert.equal((await low).status, 200);
    assert.deepEqual(engine.users, ["holder", "high", "low"]);
    assert.match(gw.logs.join("\n"), /"status":499.*"error":"client_abort"/);
  } finally {
    await gw.close();
    await engine.close();
  }

  const slow = startFakeEngine({ model: "qwen", maxBatch: 8, decodeMsPerToken: 25 });
  const impatient = startGateway(
    gatewayYaml([slow.url], "      queue: { max-size: 10, max-wait: 200ms }", ", max-concurrency: 1"),
  );
  try {
    const holder = await post(impatient.url, { stream: true, max_tokens: 40 });
    const late = await post(impatient.url, { max_tokens: 1 });
    assert.equal(late.status, 503);
    assert.equal(late.headers.get("retry-after"), "1");
    assert.equal((await late.json()).error.code, "queue_timeout");
    await holder.text();
    assert.equal(slow.requests, 1, "the request that timed out never reached the engine");
  } finally {
    await impatient.close();
    await slow.close();
  }
});

Deno.test("admission: max-engine-queue keeps a slow engine's own queue bounded; the rest wait in the gateway", async () => {
  const slow = startFakeEngine({ model: "qwen", maxBatch: 2, decodeMsPerToken: 15 });
  const gw = startGateway(
    `
model:
  services:
    chat:
      load-balance: { type: least-load }
      health-check: { enabled: false }
      load-signals: { interval: 50ms, timeout: 200ms, stale-after: 2s }
      queue: { max-size: 50, max-wait: 60s, max-engine-queue: 1 }
      instances:
        - { name: qwen, base-url: "${slow.url}", adapter: vllm }
`,
    { probes: true },
  );
  let peakWaiting = 0;
  const sampler = setInterval(() => (peakWaiting = Math.max(peakWaiting, slow.sim.waiting)), 2);
  const warmUp = new AbortController();
  try {
    const [u] = gw.gateway.runtime().upstreams;
    // Other traffic once filled the engine: its reports show a full batch of 2 with a queue.
    const direct = generateDirectly(slow.url, 4, warmUp.signal, 400);
    await eventually(() => engineBatch(u) === 2, "the engine's batch size learned from its reports", 5000);
    warmUp.abort();
    await direct;
    await eventually(() => u.stats.engine?.status().waiting === 0 && slow.sim.running === 0, "drained");
    peakWaiting = 0;
    const statuses = await Promise.all(
      Array.from(
        { length: 12 },
        () => post(gw.url, { max_tokens: 6 }).then(async (r) => (await r.text(), r.status)),
      ),
    );
    assert.deepEqual(statuses, Array(12).fill(200));
    // The gateway's view of the queue is exact for its own requests but for one that may be on
    // its way while a report travels: 1 allowed, at most 2 seen. (Without the gate: 10.)
    assert.ok(peakWaiting <= 2, `the engine's own queue reached ${peakWaiting}`);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /dairouter_queue_wait_seconds_count\{service="chat",outcome="served"\} [1-9]/);
  } finally {
    clearInterval(sampler);
    warmUp.abort();
    await gw.close();
    await slow.close();
  }
});

/** The batch size the gateway learned for `u` from its engine's reports. */
function engineBatch(
  u: { stats: { inFlight: number; engine?: { read(n: number): { batch?: number } | undefined } } },
) {
  return u.stats.engine?.read(u.stats.inFlight)?.batch;
}

Deno.test("token limits: an API key's token budget is charged what the engine reports, streams included", async () => {
  const engine = startFakeEngine({ model: "qwen", decodeMsPerToken: 1 });
  const gw = startGateway(gatewayYaml(
    [engine.url],
    "",
    "",
    `
auth:
  keys:
    - name: metered
      key: metered-key-0001
      rate-limit: { unit: tokens, capacity: 600, rate: 0.001 }
`,
  ));
  const auth = { headers: { authorization: "Bearer metered-key-0001" } };
  try {
    // Each asks for no max_tokens: 261 tokens estimated (256 of output), about 20 used. Without
    // the correction the third request would already be refused (3 × 261 > 600).
    for (let i = 0; i < 6; i++) {
      const res = await post(gw.url, { stream: i % 2 === 1 }, auth);
      assert.equal(res.status, 200);
      await res.text();
    }
    const lines = gw.logs.map((l) => JSON.parse(l)).filter((l) => l.route === "/v1/chat/completions");
    const spent = lines.reduce((n, l) => n + l.tokensIn + l.tokensOut, 0);
    assert.equal(lines.length, 6);
    assert.ok(lines.every((l) => l.tokensOut > 0), "every answer, streamed or not, reported its usage");
    const key = gw.gateway.runtime().keyLimiters.get("metered")!;
    assert.equal(key.peek("metered", 600 - spent).allowed, true, `${600 - spent} tokens left`);
    assert.equal(key.peek("metered", 600 - spent + 1).allowed, false);
    // Now the estimate itself is too much: refused before any call.
    const refused = await post(gw.url, { max_tokens: 600 }, auth);
    assert.equal(refused.status, 429);
    assert.match((await refused.json()).error.message, /this API key/);
    assert.equal(engine.requests, 6);
  } finally {
    await gw.close();
    await engine.close();
  }
});
