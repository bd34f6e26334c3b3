/**
 * The fake engines behave like engines: continuous batching (time to first token grows with the
 * queue, the KV cache fills), prefix-cache hits, a slower instance, vLLM's /metrics, and Ollama's
 * cold loads — through real sockets.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { EngineSim } from "./fakes/engine_sim.ts";
import { startFakeEngine, vllmMetrics } from "./fakes/fake_engine.ts";
import { startFakeOllama } from "./fakes/fake_ollama.ts";
import { parsePromText, PROM_ENGINES, readPromEngine, wantedNames } from "../src/signals/mod.ts";

/** A virtual clock: sleeps resolve in time order when `run` advances. */
function virtualTime() {
  let now = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: now + ms, resolve })),
    async run() {
      for (;;) {
        await new Promise((r) => setTimeout(r, 0));
        if (timers.length === 0) return;
        timers.sort((a, b) => a.at - b.at);
        const t = timers.shift()!;
        now = t.at;
        t.resolve();
      }
    },
  };
}

Deno.test("EngineSim: TTFT grows with the queue; the KV cache fills with concurrent work; 3× speed is 3× slower", async () => {
  for (const speed of [1, 3]) {
    const vt = virtualTime();
    const sim = new EngineSim({ maxBatch: 2, kvCapacityTokens: 1000, speed, sleep: vt.sleep, seed: 1 });
    const kv: number[] = [];
    const jobs = Array.from(
      { length: 6 },
      (_, i) =>
        sim.generate(
          { prompt: String(i).repeat(400), maxTokens: 10 },
          () => void kv.push(sim.kvUsage),
          vt.now,
        ),
    );
    assert.equal(sim.running, 2);
    assert.equal(sim.waiting, 4);
    await vt.run();
    await Promise.all(jobs);
    const t = sim.ttfts;
    assert.equal(t.length, 6);
    assert.ok(t[5] > 2.5 * t[0], `queued requests wait: ${t.join(", ")}`);
    assert.ok(Math.max(...kv) >= 0.2 && sim.kvReserved === 0);
    if (speed === 3) assert.ok(Math.abs(t[0] - 3 * 24.2) < 1, `speed 3: first TTFT ${t[0]}`);
    else assert.ok(Math.abs(t[0] - 24.2) < 1, `speed 1: first TTFT ${t[0]}`);
  }
});

Deno.test("EngineSim: a prefix-cache hit cuts the time to first token several times", async () => {
  const vt = virtualTime();
  const sim = new EngineSim({ sleep: vt.sleep, prefillMsPerToken: 0.5, decodeMsPerToken: 5 });
  const system = "You are a helpful assistant. ".repeat(300);
  const first = sim.generate({ prompt: `${system}question one`, maxTokens: 1 }, () => {}, vt.now);
  await vt.run();
  await first;
  const second = sim.generate({ prompt: `${system}question two`, maxTokens: 1 }, () => {}, vt.now);
  await vt.run();
  await second;
  const [cold, warm] = sim.ttfts;
  assert.ok(cold > 5 * warm, `cold ${cold} ms vs warm ${warm} ms`);
  assert.ok(sim.prefixHitTokens > 0);
});

Deno.test("EngineSim: deterministic for a seed", async () => {
  const lengths = async (seed: number) => {
    const vt = virtualTime();
    const sim = new EngineSim({ sleep: vt.sleep, seed });
    const jobs = Array.from({ length: 5 }, () => sim.generate({ prompt: "x" }, () => {}, vt.now));
    await vt.run();
    return await Promise.all(jobs);
  };
  assert.deepEqual(await lengths(7), await lengths(7));
  assert.notDeepEqual(await lengths(7), await lengths(8));
});

Deno.test("fake engine: OpenAI chat (plain and streamed, with the official SDK) and vLLM-style /metrics", async () => {
  const engine = startFakeEngine({ model: "qwen", maxBatch: 1, decodeMsPerToken: 1 });
  try {
    const client = new OpenAI({ baseURL: `${engine.url}/v1`, apiKey: "x" });
    const reply = await client.chat.completions.create({
      model: "qwen",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 3,
    });
    assert.equal(reply.choices[0].message.content, "t0 t1 t2");
    const stream = await client.chat.completions.create({
      model: "qwen",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 4,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "t0 t1 t2 t3");
    const metrics = await (await fetch(`${engine.url}/metrics`)).text();
    const spec = PROM_ENGINES.vllm;
    assert.deepEqual(readPromEngine(spec, parsePromText(metrics, wantedNames(spec)), "qwen"), {
      waiting: 0,
      running: 0,
      kvUsage: 0,
    });
    assert.equal(vllmMetrics(engine.sim, "qwen"), metrics);
  } finally {
    await engine.close();
  }
});

Deno.test("fake Ollama: /api/ps lists loaded models; another model loads in loadMs, evicting the oldest", async () => {
  const ollama = startFakeOllama({ models: ["llama3", "qwen2.5:7b"], loaded: ["llama3"], loadMs: 300 });
  try {
    const ps = await (await fetch(`${ollama.url}/api/ps`)).json();
    assert.deepEqual(ps.models.map((m: { name: string }) => m.name), ["llama3:latest"]);
    const chat = (model: string) =>
      fetch(`${ollama.url}/api/chat`, { method: "POST", body: JSON.stringify({ model, messages: [] }) });
    let t = performance.now();
    await (await chat("llama3")).json();
    assert.ok(performance.now() - t < 250, "a loaded model answers at once");
    t = performance.now();
    await (await chat("qwen2.5:7b")).json();
    assert.ok(performance.now() - t >= 290, "a cold model loads first");
    assert.deepEqual(ollama.loaded, ["qwen2.5:7b"]);
    assert.equal(ollama.loads, 1);
    assert.equal((await chat("missing")).status, 404);
  } finally {
    await ollama.close();
  }
});
