import assert from "node:assert/strict";
import { parseConfig } from "./config/load.ts";
import type { Config, InstanceConfig } from "./config/types.ts";
import { createGateway } from "./gateway.ts";

/** One chat instance, after `head` (YAML of other top-level blocks). */
const oneInstance = (head = "") =>
  parseConfig(
    `${head}model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "http://127.0.0.1:1" }
`,
    { source: "x.yaml", env: {} },
  ).config;
const BASE = oneInstance();

/** `BASE` with `n` chat instances over 50 models, their URLs (and so their ids) tagged with `tag`. */
function scaled(n: number, tag: string): Config {
  const proto = BASE.services.chat.instances[0];
  const instances: InstanceConfig[] = [];
  for (let i = 0; i < n; i++) {
    const baseUrl = `http://127.0.0.1:${1000 + (i % 60000)}/${tag}${i}`;
    instances.push({ ...proto, name: `m${i % 50}`, baseUrl, id: `chat/m${i % 50}@${baseUrl}` });
  }
  return { ...BASE, services: { ...BASE.services, chat: { ...BASE.services.chat, instances } } };
}

/** `config` with its chat models renamed `x0`, `x1` (every other instance). */
function renamed(config: Config): Config {
  const chat = config.services.chat;
  const instances = chat.instances.map((inst, i) => ({
    ...inst,
    name: `x${i % 2}`,
    id: `chat/x${i % 2}@${inst.baseUrl}`,
  }));
  return { ...config, services: { ...config.services, chat: { ...chat, instances } } };
}

Deno.test("reload() of 20,000 instances is linear: well under a second; removed ones leave no state behind", async () => {
  const n = 20_000;
  const gateway = createGateway(scaled(n, "a"), {
    clock: () => 0,
    random: () => 0.5,
    fetch,
    write: () => {},
  });
  try {
    gateway.reload(scaled(n, "a")); // warms the code up
    // The same instances, as a SIGHUP re-reads them. Measured here (2 loaded cores): ~100–200 ms;
    // with a scan of the new list per old instance, ~2 s (300–700 ms at 7,710 instances in the field).
    const t0 = performance.now();
    gateway.reload(scaled(n, "a"));
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `reload took ${Math.round(ms)} ms`);
    // Every instance replaced: breakers, health, counters and series of the old ids are dropped.
    gateway.reload(scaled(n, "b"));
    assert.equal(gateway.runtime().upstreams.length, n);
    assert.equal(gateway.state.stats.size, n);
    assert.equal(gateway.state.breakers.size, n);
    assert.equal(gateway.state.current.size, n);
    assert.equal(gateway.state.firstByteTimes.size, 50, "one per model (m0 … m49)");
    gateway.reload(renamed(scaled(100, "c")));
    assert.deepEqual(
      [...gateway.state.firstByteTimes.keys()].sort(),
      ["chat/x0", "chat/x1"],
      "removed models' times dropped",
    );
    gateway.reload(scaled(n, "b"));
    const metrics = await gateway.metrics.render();
    assert.ok(!metrics.includes('/a0"'), "no series of a removed instance");
    assert.ok(metrics.includes('/b0"'));
  } finally {
    await gateway.close();
  }
});

Deno.test("reload() keeps the state of an instance still configured, disabled ones included, and of one still busy", async () => {
  const config = scaled(3, "a");
  const gateway = createGateway(config, { clock: () => 0, random: () => 0.5, fetch, write: () => {} });
  try {
    const [a0, a1, a2] = gateway.runtime().upstreams;
    a2.stats.inFlight = 1; // an attempt still running on a removed instance
    const disabled = { ...config.services.chat.instances[1], enabled: false };
    const next = {
      ...config,
      services: {
        ...config.services,
        chat: { ...config.services.chat, instances: [config.services.chat.instances[0], disabled] },
      },
    };
    gateway.reload(next);
    assert.deepEqual(gateway.runtime().upstreams.map((u) => u.id), [a0.id]);
    assert.equal(
      gateway.state.breakers.get(a1.id)?.breaker,
      a1.breaker,
      "a disabled instance keeps its breaker",
    );
    assert.equal(gateway.state.stats.get(a2.id), a2.stats, "busy: kept until its attempt ends");
    a2.stats.inFlight = 0;
    gateway.reload(next);
    assert.equal(gateway.state.stats.has(a2.id), false, "dropped at the next reload");
  } finally {
    await gateway.close();
  }
});

Deno.test("the status page of 30,000 instances is linear too (it is public when auth is off)", async () => {
  const gateway = createGateway(scaled(30_000, "a"), {
    clock: () => 0,
    random: () => 0.5,
    fetch,
    write: () => {},
  });
  try {
    await (await gateway.fetch(new Request("http://x/v1/chat/status"))).body?.cancel(); // warm-up
    // Measured here: ~50–150 ms; with a scan of the list per instance, 2–4 s.
    const t0 = performance.now();
    const res = await gateway.fetch(new Request("http://x/v1/chat/status"));
    const body = await res.json();
    const ms = performance.now() - t0;
    assert.equal(body.instances.length, 30_000);
    assert.equal(body.instances[29_999].healthy, true);
    assert.ok(ms < 1000, `the status page took ${Math.round(ms)} ms`);
  } finally {
    await gateway.close();
  }
});

Deno.test("reload() drops the rate-limit bucket of an API key no longer configured, and keeps the others'", async () => {
  const withKeys = (names: string[]): Config =>
    oneInstance(`auth:
  enabled: true
  keys:
${
      names.map((n) =>
        `    - { name: ${n}, key: sk-${n}-0123456789abcdef, rate-limit: { capacity: 5, rate: 1 } }\n`
      ).join("")
    }`);
  const gateway = createGateway(withKeys(["a", "b"]), {
    clock: () => 0,
    random: () => 0.5,
    fetch,
    write: () => {},
  });
  try {
    const kept = gateway.state.keyLimiters.get("a");
    assert.deepEqual([...gateway.state.keyLimiters.keys()], ["a", "b"]);
    gateway.reload(withKeys(["a", "c"]));
    assert.deepEqual([...gateway.state.keyLimiters.keys()], ["a", "c"]);
    assert.equal(gateway.state.keyLimiters.get("a"), kept, "a key still configured keeps its bucket");
  } finally {
    await gateway.close();
  }
});
