import assert from "node:assert/strict";
import { failureMessage as failure, parseText as parse } from "./_testing.ts";

Deno.test("load-signals: defaults follow the strategy; a service's block wins key by key over the global one", () => {
  const { config, warnings } = parse(`
model:
  load-signals:
    interval: 2s
    timeout: 500ms
    max-bytes: 256kb
  services:
    chat:
      load-balance: { type: least-load, kv-saturation: 0.8 }
      load-signals: { stale-after: 10s, source: sglang }
      instances:
        - { name: m, base-url: "http://127.0.0.1:8000" }
        - name: m
          base-url: http://127.0.0.1:8001
          adapter: triton
          load-signals: { url: "http://127.0.0.1:8002/metrics", source: triton }
    embedding:
      instances: [{ name: e, base-url: "http://127.0.0.1:9000" }]
`);
  assert.deepEqual(warnings, []);
  const chat = config.services.chat;
  assert.deepEqual(chat.loadSignals, {
    enabled: true,
    intervalMs: 2000,
    timeoutMs: 500,
    staleAfterMs: 10_000,
    maxBytes: 256 * 1024,
    source: "sglang",
  });
  assert.equal(chat.loadBalance.kvSaturation, 0.8);
  assert.deepEqual(chat.instances[1].loadSignals, { url: "http://127.0.0.1:8002/metrics", source: "triton" });
  assert.equal(chat.instances[0].loadSignals, undefined);
  // Not a load-aware strategy: off unless asked; stale-after follows the interval.
  assert.deepEqual(config.services.embedding.loadSignals, {
    enabled: false,
    intervalMs: 2000,
    timeoutMs: 500,
    staleAfterMs: 6000,
    maxBytes: 256 * 1024,
    source: "auto",
  });
});

Deno.test("load-balance.prefix: block size, blocks hashed and cache size, with defaults", () => {
  const { config } = parse(`
model:
  load-balance: { type: prefix-affinity, load-factor: 1.5, prefix: { block-size: 128, cache-size: 4096 } }
  services:
    chat: { instances: [{ name: m, base-url: "http://127.0.0.1:8000" }] }
`);
  const lb = config.services.chat.loadBalance;
  assert.equal(lb.type, "prefix-affinity");
  assert.deepEqual(lb.prefix, { blockSize: 128, maxBlocks: 512, cacheSize: 4096 });
  assert.equal(config.services.chat.loadSignals.enabled, true);
  assert.equal(config.services.chat.loadSignals.staleAfterMs, 3000);
});

Deno.test("load-signals: bad values are config errors naming key and line", () => {
  assert.match(
    failure("model:\n  load-signals:\n    interval: 2s\n    stale-after: 1s\n"),
    /model\.load-signals\.stale-after must be at least interval \(2000 ms\).* \(line 4\)/,
  );
  assert.match(
    failure("model:\n  load-signals:\n    source: prometheus\n"),
    /model\.load-signals\.source must be one of auto, none, vllm, sglang, tgi, llamacpp, triton, tei, ollama, received "prometheus" \(line 3\)/,
  );
  assert.match(
    failure("model:\n  load-signals:\n    interval: 0s\n"),
    /model\.load-signals\.interval .*\(line 3\)/,
  );
  assert.match(
    failure("model:\n  load-signals:\n    max-bytes: lots\n"),
    /model\.load-signals\.max-bytes .*\(line 3\)/,
  );
  assert.match(
    failure(
      'model:\n  services:\n    chat:\n      instances:\n        - name: m\n          base-url: http://127.0.0.1:1\n          load-signals: { url: "ftp://x/metrics" }\n',
    ),
    /instances\[0\]\.load-signals\.url must be an http\(s\) URL, received "ftp:\/\/x\/metrics" \(line 7\)/,
  );
  assert.match(
    failure("model:\n  load-balance:\n    kv-saturation: 1.5\n"),
    /load-balance\.kv-saturation .*\(line 3\)/,
  );
  assert.match(
    failure("model:\n  load-balance:\n    prefix:\n      block-size: 0\n"),
    /load-balance\.prefix\.block-size .*\(line 4\)/,
  );
});
