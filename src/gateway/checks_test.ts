/**
 * Failed load-signal scrapes are visible: each is counted in `dairouter_engine_scrape_failures_total`
 * by instance and reason, and a change of state is logged once — a `warn` when an instance's
 * scrapes start failing, an `info` when they recover — never once per scrape. A real gateway on
 * real (short) timers, its engine's `/metrics` answered by an injected fetch.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import { createGateway } from "../gateway.ts";

const CONFIG = `
model:
  services:
    chat:
      load-balance: { type: least-load }
      health-check: { enabled: false }
      load-signals: { interval: 20ms, timeout: 200ms }
      instances:
        - { name: m, base-url: "http://127.0.0.1:9009", adapter: vllm }
`;

async function eventually(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("checks: a failing load-signal scrape is counted per scrape, logged once when it starts and once when it recovers", async () => {
  const { config } = parseConfig(CONFIG, { source: "x.yaml", env: {} });
  let answer = () => new Response("bad gateway", { status: 502 });
  let scrapes = 0;
  const fetchFake = ((url: string) => {
    assert.equal(url, "http://127.0.0.1:9009/metrics");
    scrapes++;
    return Promise.resolve(answer());
  }) as typeof fetch;
  const lines: Record<string, unknown>[] = [];
  const gateway = createGateway(config, {
    clock: Date.now,
    random: () => 0.5,
    fetch: fetchFake,
    write: (line) => lines.push(JSON.parse(line)),
  });
  const id = gateway.runtime().upstreams[0].id;
  const signalLines = () => lines.filter((l) => l.event === "load_signal");
  const failures = async (reason: string) => {
    const text = await gateway.metrics.render();
    const line = text.split("\n").find((l) =>
      l.startsWith(
        `dairouter_engine_scrape_failures_total{service="chat",instance="${id}",reason="${reason}"}`,
      )
    );
    return line === undefined ? 0 : Number(line.split(" ").at(-1));
  };
  try {
    gateway.startProbes();
    await eventually(() => scrapes >= 4, "four failed scrapes");
    assert.ok(await failures("status") >= 3, "every failed scrape is counted");
    assert.deepEqual(signalLines().map((l) => [l.level, l.msg, l.instance, l.reason, l.error]), [
      ["warn", "load signal scrape failing", id, "status", "HTTP 502"],
    ]);

    answer = () => new Response('vllm:num_requests_waiting{model_name="m"} 0\n');
    await eventually(() => signalLines().length === 2, "the recovery");
    const seen = scrapes;
    await eventually(() => scrapes >= seen + 3, "three more good scrapes");
    assert.deepEqual(signalLines().map((l) => [l.level, l.msg]), [
      ["warn", "load signal scrape failing"],
      ["info", "load signal scrape recovered"],
    ]);

    answer = () => new Response("<html>maintenance</html>\n");
    await eventually(() => signalLines().length === 3, "the next failure");
    assert.deepEqual(signalLines()[2].reason, "unreadable");
    assert.equal(signalLines()[2].error, "no load metrics found");
    assert.ok(await failures("unreadable") >= 1);
  } finally {
    await gateway.close();
  }
});
