/**
 * In-flight accounting under a realistic mix: 10k requests through the gateway — plain, streamed,
 * aborted by the client mid-stream, and failing upstream — must leave every least-connections
 * counter at exactly 0 (JAiRouter leaks them on failures and stream ends).
 */

import assert from "node:assert/strict";
import { eventually, startGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";

Deno.test("10k mixed requests (streams, client aborts, upstream errors) leave every in-flight counter at 0", async () => {
  const ups = [0, 1, 2].map((i) => startFakeUpstream({ name: `U${i}`, streamChunks: 3, chunkDelayMs: 1 }));
  ups[2].fault = { kind: "status", status: 500 };
  const gw = startGateway(`
model:
  health-check:
    enabled: false
    passive-failures: 1000000
  circuit-breaker:
    enabled: false
  load-balance:
    type: least-connections
  services:
    chat:
      retry:
        max-attempts: 3
      instances:
${ups.map((u) => `        - { name: m, base-url: "${u.url}" }`).join("\n")}
`);
  const statuses = new Map<number, number>();
  let aborted = 0;
  const one = async (i: number) => {
    const stream = i % 2 === 0;
    const ctrl = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream, messages: [] }),
      signal: ctrl.signal,
    });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (stream && i % 10 === 0) {
      const reader = res.body!.getReader();
      await reader.read();
      ctrl.abort();
      // Not `reader.closed`: when the rest of the body had already arrived, the client stream is
      // closing with chunks queued, and `closed` waits for a read that never comes.
      await reader.cancel().catch(() => {});
      aborted++;
    } else {
      await res.arrayBuffer();
    }
  };
  try {
    const total = 10_000;
    let next = 0;
    const worker = async () => {
      while (next < total) await one(next++);
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    assert.equal(statuses.get(200), total, `statuses: ${JSON.stringify([...statuses])}`);
    assert.equal(aborted, 1000);
    await eventually(
      () => gw.gateway.runtime().upstreams.every((u) => u.stats.inFlight === 0),
      "all in-flight counters back to 0",
    );
    assert.ok(ups[2].requests.length > 0, "the failing upstream was tried");
  } finally {
    await gw.close();
    for (const u of ups) await u.close();
  }
});
