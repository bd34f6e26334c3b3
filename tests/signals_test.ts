/**
 * Engine load signals end to end, through real sockets: the gateway's scrapers read fake engines'
 * /metrics, the status page and /metrics show the engines' queues, least-load picks by them, and a
 * scrape that hangs or answers garbage blocks nothing and leaves a stale signal that least-load
 * ignores. (Passing signals on the live request path is stage 2 of issue 14; here the gateway's own
 * pool strategy is asked directly, with the accessor the request path will pass.)
 */
import assert from "node:assert/strict";
import { engineLoadOf } from "../src/signals/mod.ts";
import { startFakeEngine } from "./fakes/fake_engine.ts";
import { startFakeOllama } from "./fakes/fake_ollama.ts";
import { eventually, startGateway } from "./fakes/gateway.ts";

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

/** Sends `n` long chat requests straight to an engine (not through the gateway); abort to end them. */
function load(url: string, n: number, ctrl: AbortController): Promise<unknown>[] {
  return Array.from({ length: n }, () =>
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "qwen",
        messages: [{ role: "user", content: "hello" }],
        max_tokens: 500,
      }),
      signal: ctrl.signal,
    }).then((r) => r.text()).catch(() => {}));
}

Deno.test("load signals: the scraper reads the engines' queues into status, metrics and least-load", async () => {
  const busy = startFakeEngine({ model: "qwen", maxBatch: 1, decodeMsPerToken: 20 });
  const idle = startFakeEngine({ model: "qwen", maxBatch: 1, decodeMsPerToken: 20 });
  const gw = startGateway(yaml([busy.url, idle.url]), { probes: true });
  const ctrl = new AbortController();
  const pending = load(busy.url, 4, ctrl);
  try {
    const [a, b] = gw.gateway.runtime().upstreams;
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
    // The gateway sent nothing to either: least-load goes by the engines' own numbers.
    const pool = gw.gateway.runtime().services.chat.pools.get("qwen")!;
    for (let i = 0; i < 5; i++) assert.equal(pool.strategy.pick({ load: engineLoadOf }), b);
  } finally {
    ctrl.abort();
    await Promise.all(pending);
    await gw.close();
    await busy.close();
    await idle.close();
  }
});

Deno.test("load signals: a hung or garbage scrape blocks nothing, goes stale, and least-load ignores it", async () => {
  const bad = startFakeEngine({ model: "qwen", maxBatch: 1, decodeMsPerToken: 20 });
  const good = startFakeEngine({ model: "qwen", maxBatch: 1, decodeMsPerToken: 20 });
  const gw = startGateway(yaml([bad.url, good.url]), { probes: true });
  const ctrl = new AbortController();
  const pending = load(good.url, 1, ctrl); // good: 1 running, 0 waiting
  try {
    const [a, b] = gw.gateway.runtime().upstreams;
    await eventually(
      () => a.stats.engine?.status().trusted === true && b.stats.engine?.status().running === 1,
      "both scraped",
    );
    bad.metricsFault = "hang";
    const before = good.scrapes;
    await eventually(
      () => a.stats.engine?.status().error === "timeout after 200 ms",
      "hung scrape timed out",
      3000,
    );
    await eventually(() => a.stats.engine?.status().trusted === false, "hung signal went stale", 3000);
    assert.ok(good.scrapes >= before + 3, `the healthy engine kept being scraped (${good.scrapes - before})`);
    assert.equal(b.stats.engine?.status().trusted, true);
    // The gateway answers while the scrape hangs.
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    // Stale: least-load judges `bad` by the gateway's in-flight count (0) — b has 1 running.
    assert.equal(engineLoadOf(a), undefined);
    const pool = gw.gateway.runtime().services.chat.pools.get("qwen")!;
    assert.equal(pool.strategy.pick({ load: engineLoadOf }), a);
    a.stats.inFlight = 2; // now the gateway's own count says a is busier
    assert.equal(pool.strategy.pick({ load: engineLoadOf }), b);
    a.stats.inFlight = 0;

    bad.metricsFault = "garbage";
    await eventually(
      () => a.stats.engine?.status().error === "no load metrics found",
      "garbage refused",
      3000,
    );
    bad.metricsFault = "huge";
    await eventually(
      () => a.stats.engine?.status().error === "body larger than 1048576 bytes",
      "huge refused",
      3000,
    );
    bad.metricsFault = "none";
    await eventually(() => a.stats.engine?.status().trusted === true, "recovered", 3000);
  } finally {
    ctrl.abort();
    await Promise.all(pending);
    await gw.close();
    await bad.close();
    await good.close();
  }
});

Deno.test("load signals: Ollama residency from /api/ps steers every strategy to the warm instance", async () => {
  const warm = startFakeOllama({ models: ["llama3"], loaded: ["llama3"], loadMs: 2000 });
  const cold = startFakeOllama({ models: ["llama3", "qwen2.5:7b"], loaded: ["qwen2.5:7b"], loadMs: 2000 });
  const gw = startGateway(
    `
model:
  services:
    chat:
      load-balance: { type: round-robin }
      health-check: { enabled: false }
      load-signals: { enabled: true, interval: 100ms }
      instances:
        - { name: llama3, base-url: "${cold.url}", adapter: ollama }
        - { name: llama3, base-url: "${warm.url}", adapter: ollama }
`,
    { probes: true },
  );
  try {
    const [c, w] = gw.gateway.runtime().upstreams;
    await eventually(
      () => c.stats.engine?.status().trusted === true && w.stats.engine?.status().trusted === true,
      "scraped",
    );
    assert.deepEqual(c.stats.engine?.status().models, ["qwen2.5:7b"]);
    const pool = gw.gateway.runtime().services.chat.pools.get("llama3")!;
    for (let i = 0; i < 6; i++) assert.equal(pool.strategy.pick({ load: engineLoadOf }), w);
    // Without signals, round-robin alternates as it always did.
    const ids = new Set(Array.from({ length: 4 }, () => pool.strategy.pick({})!.id));
    assert.equal(ids.size, 2);
  } finally {
    await gw.close();
    await warm.close();
    await cold.close();
  }
});
