/**
 * Engine load signals end to end, through real sockets: the gateway's scrapers read fake engines'
 * /metrics, the status page, /metrics and the console show the engines' queues, least-load routes
 * live requests by them, and a
 * scrape that hangs or answers garbage blocks no request and leaves a stale signal that least-load
 * ignores — every request sent through the gateway, every count taken at the fakes.
 */
import assert from "node:assert/strict";
import { engineLoadOf } from "../src/signals/mod.ts";
import { generateDirectly, startFakeEngine } from "./fakes/fake_engine.ts";
import { askChat, eventually, startGateway } from "./fakes/gateway.ts";
import { consoleLoad } from "../src/gateway.ts";

const yaml = (urls: string[], extra = "") => `
model:
  services:
    chat:
      load-balance: { type: least-load }
      health-check: { enabled: false }
      load-signals: { interval: 100ms, timeout: 200ms, stale-after: 500ms }
      instances:
${urls.map((u) => `        - { name: qwen, base-url: "${u}", adapter: vllm${extra} }`).join("\n")}
`;

Deno.test("load signals: the scraper reads the engines' queues into status, metrics and least-load", async () => {
  const busy = startFakeEngine({ model: "qwen", maxBatch: 1, decodeMsPerToken: 20 });
  const idle = startFakeEngine({ model: "qwen", maxBatch: 1, decodeMsPerToken: 20 });
  const gw = startGateway(yaml([busy.url, idle.url]), { probes: true });
  const ctrl = new AbortController();
  const pending = generateDirectly(busy.url, 4, ctrl.signal);
  try {
    const [a] = gw.gateway.runtime().upstreams;
    await eventually(() => a.stats.engine?.status().waiting === 3, "busy engine's queue of 3 scraped", 5000);
    assert.equal(a.stats.engine?.status().running, 1);
    const status = await (await fetch(`${gw.url}/v1/chat/status`)).json();
    assert.equal(status.instances[0].engine.waiting, 3);
    assert.equal(status.instances[0].engine.trusted, true);
    assert.equal(status.instances[1].engine.waiting, 0);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(
        `dairouter_engine_queue_depth\\{service="chat",instance="${
          a.id.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
        }"\\} 3`,
      ),
    );
    assert.match(metrics, /dairouter_engine_kv_cache_usage\{service="chat",instance="[^"]+"\} 0(\.\d+)?/);
    assert.match(metrics, /dairouter_engine_signal_age_seconds\{service="chat",instance="[^"]+"\} \d/);
    // The operator console shows the same reading.
    assert.deepEqual(consoleLoad(a), { queueDepth: 3, kvCacheUsage: busy.sim.kvUsage });
    // The gateway sent nothing to either: least-load goes by the engines' own numbers.
    for (let i = 0; i < 6; i++) assert.equal(await askChat(gw.url), 200);
    assert.equal(idle.requests, 6, "every request went to the idle engine");
    assert.equal(busy.requests, 4, "the busy engine got only its own load");
  } finally {
    ctrl.abort();
    await pending;
    await gw.close();
    await busy.close();
    await idle.close();
  }
});

Deno.test("load signals: a hung or garbage report blocks no request, goes stale, and least-load ignores it", async () => {
  const a = startFakeEngine({ model: "qwen", maxBatch: 1, decodeMsPerToken: 20 });
  const b = startFakeEngine({ model: "qwen", maxBatch: 8, decodeMsPerToken: 1 });
  const gw = startGateway(yaml([a.url, b.url]), { probes: true });
  const ctrl = new AbortController();
  const pending = generateDirectly(a.url, 4, ctrl.signal);
  try {
    const [ua, ub] = gw.gateway.runtime().upstreams;
    await eventually(
      () => ua.stats.engine?.status().waiting === 3 && ub.stats.engine?.status().trusted === true,
      "both scraped",
      5000,
    );
    assert.equal(await askChat(gw.url), 200);
    assert.equal(a.requests, 4, "trusted: a's queue keeps requests away");
    // a's report hangs from now on, and a is idle in truth: its last reading (busy) must age out.
    a.metricsFault = "hang";
    ctrl.abort();
    await pending;
    const before = b.scrapes;
    await eventually(
      () => ua.stats.engine?.status().error === "timeout after 200 ms",
      "hung scrape timed out",
      3000,
    );
    await eventually(() => ua.stats.engine?.status().trusted === false, "hung signal went stale", 3000);
    assert.ok(b.scrapes >= before + 3, `the healthy engine kept being scraped (${b.scrapes - before})`);
    assert.equal(ub.stats.engine?.status().trusted, true);
    assert.equal(engineLoadOf(ua), undefined);
    const errors = {
      hang: "timeout after 200 ms",
      garbage: "no load metrics found",
      huge: "body larger than 1048576 bytes",
    };
    for (const [fault, error] of Object.entries(errors) as [keyof typeof errors, string][]) {
      a.metricsFault = fault;
      await eventually(() => ua.stats.engine?.status().error === error, `${fault} refused`, 3000);
      const served = a.requests;
      for (let i = 0; i < 6; i++) {
        const started = Date.now();
        assert.equal(await askChat(gw.url), 200);
        assert.ok(
          Date.now() - started < 2000,
          `a request waited ${Date.now() - started} ms behind a ${fault} report`,
        );
      }
      // Stale: a is judged by the gateway's own count (0), like b: they share the requests.
      assert.ok(a.requests - served >= 2, `${fault}: a got ${a.requests - served} of 6`);
    }
    a.metricsFault = "none";
    await eventually(() => ua.stats.engine?.status().trusted === true, "recovered", 3000);
  } finally {
    ctrl.abort();
    await pending;
    await gw.close();
    await a.close();
    await b.close();
  }
});

Deno.test("load signals: credentials in load-signals.url are sent as Basic auth, not beside the instance's key, and shown nowhere", async () => {
  const basic = `Basic ${btoa("scraper:p@ss word")}`;
  const seen: (string | null)[] = [];
  // A metrics endpoint behind its own Basic auth, as an engine behind a reverse proxy has.
  const engine = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const auth = req.headers.get("authorization");
    seen.push(auth);
    return auth === basic
      ? new Response('vllm:num_requests_waiting{model_name="qwen"} 4\n')
      : new Response("unauthorized", { status: 401 });
  });
  const at = `127.0.0.1:${engine.addr.port}`;
  const gw = startGateway(
    `
model:
  services:
    chat:
      load-balance: { type: least-load }
      health-check: { enabled: false }
      load-signals: { interval: 100ms, timeout: 200ms }
      instances:
        - name: qwen
          base-url: "http://${at}"
          adapter: vllm
          api-key: sk-instance-key
          load-signals: { url: "http://scraper:p%40ss%20word@${at}/metrics" }
`,
    { probes: true },
  );
  try {
    const [u] = gw.gateway.runtime().upstreams;
    await eventually(() => u.stats.engine?.status().waiting === 4, "the engine's queue scraped", 5000);
    assert.deepEqual([...new Set(seen)], [basic], "only the URL's credentials, one Authorization value");
    const shown = [
      await (await fetch(`${gw.url}/v1/chat/status`)).text(),
      await (await fetch(`${gw.url}/metrics`)).text(),
      ...gw.logs,
    ].join("\n");
    for (const secret of ["p%40ss%20word", "p@ss word", btoa("scraper:p@ss word")]) {
      assert.ok(!shown.includes(secret), `${secret} is shown`);
    }
  } finally {
    await gw.close();
    await engine.shutdown();
  }
});
