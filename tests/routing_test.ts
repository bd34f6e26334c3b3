/**
 * Routing on the live request path, through real sockets against the fake engines:
 * prefix-affinity keeps a conversation on one engine, least-connections honours weights, Ollama
 * residency avoids cold loads — every request sent through the gateway, every count taken at the
 * fakes. (Least-load and stale load reports: `signals_test.ts`.)
 */
import assert from "node:assert/strict";
import { startFakeEngine } from "./fakes/fake_engine.ts";
import { startFakeOllama } from "./fakes/fake_ollama.ts";
import { askChat, eventually, startGateway } from "./fakes/gateway.ts";

const chatYaml = (type: string, urls: string[], extra = "", instance = "") => `
model:
  services:
    chat:
      load-balance: { type: ${type} }
      health-check: { enabled: false }
      load-signals: { interval: 100ms, timeout: 200ms, stale-after: 500ms }
${extra}
      instances:
${urls.map((u) => `        - { name: qwen, base-url: "${u}", adapter: vllm${instance} }`).join("\n")}
`;

Deno.test("routing: prefix-affinity keeps every turn of a conversation on one engine, and computes far fewer prompt tokens", async () => {
  const system = "You are the ACME help desk assistant. Answer briefly and politely. ".repeat(30);
  const run = async (type: string) => {
    const engines = [0, 1, 2].map(() =>
      startFakeEngine({ model: "qwen", decodeMsPerToken: 1, prefixCacheBlocks: 200 })
    );
    const gw = startGateway(chatYaml(type, engines.map((e) => e.url)));
    try {
      const history = new Map<string, { role: string; content: string }[]>();
      for (let turn = 0; turn < 4; turn++) {
        for (let c = 0; c < 5; c++) {
          const user = `conv-${c}`;
          const messages = history.get(user) ?? [{ role: "system", content: system }];
          messages.push({
            role: "user",
            content: `${user} asks question ${turn}: ${"why is that so? ".repeat(8)}`,
          });
          const res = await fetch(`${gw.url}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model: "qwen", user, messages, max_tokens: 4 }),
          });
          const reply = await res.json();
          assert.equal(res.status, 200);
          messages.push(reply.choices[0].message);
          history.set(user, messages);
        }
      }
      const homes = new Map<string, Set<number>>();
      engines.forEach((e, i) => e.users.forEach((u) => homes.set(u, (homes.get(u) ?? new Set()).add(i))));
      const hits = engines.reduce((n, e) => n + e.sim.prefixHitTokens, 0);
      const queried = engines.reduce((n, e) => n + e.sim.prefixQueriedTokens, 0);
      return { homes, missed: queried - hits };
    } finally {
      await gw.close();
      for (const e of engines) await e.close();
    }
  };
  const affinity = await run("prefix-affinity");
  for (const [user, home] of affinity.homes) assert.equal(home.size, 1, `${user} moved between engines`);
  const rr = await run("round-robin");
  assert.ok([...rr.homes.values()].some((h) => h.size > 1), "round-robin spreads conversations");
  // Every engine caches the shared system prompt; only affinity finds each conversation's own turns.
  assert.ok(
    affinity.missed < 0.6 * rr.missed,
    `prompt tokens computed afresh: affinity ${affinity.missed}, round-robin ${rr.missed}`,
  );
});

Deno.test("routing: least-connections shares sequential requests 3:1 between weights 3 and 1", async () => {
  const heavy = startFakeEngine({ model: "qwen", decodeMsPerToken: 1 });
  const light = startFakeEngine({ model: "qwen", decodeMsPerToken: 1 });
  const gw = startGateway(`
model:
  services:
    chat:
      load-balance: { type: least-connections }
      health-check: { enabled: false }
      instances:
        - { name: qwen, base-url: "${heavy.url}", weight: 3 }
        - { name: qwen, base-url: "${light.url}", weight: 1 }
`);
  try {
    for (let i = 0; i < 40; i++) assert.equal(await askChat(gw.url), 200);
    assert.deepEqual([heavy.requests, light.requests], [30, 10]);
  } finally {
    await gw.close();
    await heavy.close();
    await light.close();
  }
});

Deno.test("routing: Ollama residency sends live requests to the instance that has the model loaded", async () => {
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
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "llama3", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(res.status, 200, await res.text());
    }
    assert.equal(cold.loads, 0, "no cold load was forced");
    assert.deepEqual(cold.loaded, ["qwen2.5:7b"]);
  } finally {
    await gw.close();
    await warm.close();
    await cold.close();
  }
});
