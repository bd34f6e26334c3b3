import assert from "node:assert/strict";
import { vllmAdapter } from "../adapters/vllm.ts";
import { parseConfig } from "../config/load.ts";
import { configSecrets } from "../config/secrets.ts";
import type { LoadSignalsConfig } from "../config/types.ts";
import type { InstanceTarget, UpstreamStats } from "../types.ts";
import { scrapeTargets, type SignalInstance } from "./targets.ts";

const CONFIG: LoadSignalsConfig = {
  enabled: true,
  intervalMs: 1000,
  timeoutMs: 800,
  staleAfterMs: 3000,
  maxBytes: 1 << 20,
  source: "auto",
};

function instance(url: string | undefined, target: Partial<InstanceTarget> = {}): SignalInstance {
  const stats: UpstreamStats = { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 };
  return {
    id: "chat/qwen@http://127.0.0.1:8000",
    service: "chat",
    model: "qwen",
    stats,
    adapter: vllmAdapter,
    target: { baseUrl: "http://127.0.0.1:8000", headers: {}, ...target },
    config: { loadSignals: url === undefined ? {} : { url } },
  };
}

Deno.test("scrapeTargets(): credentials in load-signals.url become Basic auth, replacing the instance's own", () => {
  const u = instance("http://scraper:p%40ss%20word@127.0.0.1:8002/metrics", {
    apiKey: "sk-instance",
    headers: { "x-tenant": "blue" },
  });
  const [t] = scrapeTargets([u], CONFIG, () => 0);
  const { url, headers } = t.request();
  assert.equal(url, "http://127.0.0.1:8002/metrics");
  assert.equal(headers.get("authorization"), `Basic ${btoa("scraper:p@ss word")}`);
  assert.equal(headers.get("x-tenant"), "blue", "the instance's other headers still go");
  assert.equal(
    vllmAdapter.probe("chat", u.target).headers.get("authorization"),
    "Bearer sk-instance",
    "the health probe keeps the instance's key",
  );
});

Deno.test("scrapeTargets(): a load-signals.url without credentials keeps the instance's key", () => {
  const [t] = scrapeTargets(
    [instance("http://127.0.0.1:8002/metrics", { apiKey: "sk-instance" })],
    CONFIG,
    () => 0,
  );
  assert.equal(t.request().headers.get("authorization"), "Bearer sk-instance");
  const [d] = scrapeTargets([instance(undefined)], CONFIG, () => 0);
  assert.equal(d.request().url, "http://127.0.0.1:8000/metrics");
});

Deno.test("configSecrets() masks the password of a load-signals.url", () => {
  const yaml = "model:\n  services:\n    chat:\n      instances:\n" +
    '        - { name: m, base-url: "http://127.0.0.1:9", load-signals: { url: "http://s:pw%2Fsecret@127.0.0.1:9/metrics" } }\n';
  const secrets = configSecrets(parseConfig(yaml, { source: "x.yaml", env: {} }).config);
  assert.ok(secrets.includes("pw%2Fsecret") && secrets.includes("pw/secret"), JSON.stringify(secrets));
  assert.ok(secrets.includes(btoa("s:pw/secret")));
});
