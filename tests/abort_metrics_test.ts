/**
 * A stream the client leaves after its 200 went out is counted in `dairouter_requests_total` as
 * status 499, not as a success, while the access log keeps the status the client received.
 */

import assert from "node:assert/strict";
import { eventually, startGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";

Deno.test("a stream aborted by the client mid-way is status 499 in dairouter_requests_total", async () => {
  const up = startFakeUpstream({ name: "U", streamChunks: 20, chunkDelayMs: 20 });
  const gw = startGateway(`
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "${up.url}" }
`);
  try {
    const ctrl = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream: true, messages: [] }),
      signal: ctrl.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read();
    ctrl.abort();
    await reader.cancel().catch(() => {});
    await eventually(() => gw.logs.some((l) => l.includes('"client_abort"')), "the abort is logged");
    const access = JSON.parse(gw.logs.find((l) => l.includes('"client_abort"'))!);
    assert.equal(access.status, 200, "the access log says what the client received");
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const line = (status: string) =>
      metrics.split("\n").find((l) =>
        l.startsWith("dairouter_requests_total{") && l.includes('model="m"') &&
        l.includes(`status="${status}"`)
      );
    assert.match(line("499") ?? "", / 1$/);
    assert.equal(line("200"), undefined);
  } finally {
    await gw.close();
    await up.close();
  }
});
