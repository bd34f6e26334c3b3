import assert from "node:assert/strict";
import { failureMessage as failure, parseText as parse } from "./_testing.ts";

Deno.test("queue: a written block is on, a service's keys win over the global ones; unwritten = no queue", () => {
  const { config, warnings } = parse(`
model:
  queue: { max-wait: 10s, priority: "header:X-Priority" }
  services:
    chat:
      queue: { max-size: 20, max-engine-queue: 2 }
      instances:
        - { name: m, base-url: "http://127.0.0.1:8000", max-concurrency: 8 }
        - { name: m, base-url: "http://127.0.0.1:8001" }
    embedding:
      queue: { enabled: false }
      instances: [{ name: e, base-url: "http://127.0.0.1:9000" }]
auth:
  keys:
    - { name: a, key: "key-aaaa-0001", priority: 9 }
    - { name: b, key: "key-bbbb-0002" }
`);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.services.chat.queue, {
    enabled: true,
    maxSize: 20,
    maxWaitMs: 10_000,
    priorityHeader: "x-priority",
    maxEngineQueue: 2,
  });
  assert.deepEqual(config.services.rerank.queue, {
    enabled: true,
    maxSize: 100,
    maxWaitMs: 10_000,
    priorityHeader: "x-priority",
  });
  assert.deepEqual(config.services.embedding.queue, { enabled: false, maxSize: 0, maxWaitMs: 0 });
  assert.equal(config.services.chat.instances[0].maxConcurrency, 8);
  assert.equal(config.services.chat.instances[1].maxConcurrency, undefined);
  assert.deepEqual(config.auth.keys.map((k) => k.priority), [9, undefined]);
  const none = parse("model:\n  services:\n    chat:\n      instances: []\n").config;
  assert.deepEqual(none.services.chat.queue, { enabled: false, maxSize: 0, maxWaitMs: 0 });
});

Deno.test("queue, max-concurrency, priority and rate-limit unit: bad values name file, key and line", () => {
  const base = (service: string, instance = "") =>
    `model:
  services:
    chat:
${service}
      instances:
        - { name: m, base-url: "http://127.0.0.1:8000"${instance} }
`;
  assert.match(
    failure(base("      queue: { max-size: -1 }")),
    /x\.yaml.*model\.services\.chat\.queue\.max-size.*(>=|at least) 0.*line 4/s,
  );
  assert.match(
    failure(base("      queue: { priority: vip }")),
    /queue\.priority must be api-key or header:<Name>, received "vip".*line 4/s,
  );
  assert.match(failure(base("      queue: { max-wait: 0 }")), /queue\.max-wait/);
  assert.match(failure(base("", ", max-concurrency: 0")), /instances\[0\]\.max-concurrency.*line 6/s);
  assert.match(
    failure(base("      rate-limit: { unit: bytes, capacity: 1, rate: 1 }")),
    /rate-limit\.unit must be one of requests, tokens, received "bytes" \(line 4\)/,
  );
  assert.match(
    failure(`model: {}
auth:
  keys:
    - { name: a, key: "key-aaaa-0001", priority: 10 }
`),
    /auth\.keys\[0\]\.priority.*9.*line 4/s,
  );
});

Deno.test("rate-limit unit: tokens at every level; requests is the default and stays unwritten", () => {
  const { config } = parse(`
model:
  services:
    chat:
      rate-limit: { unit: tokens, capacity: 100000, rate: 2000 }
      instances:
        - name: m
          base-url: http://127.0.0.1:8000
          rate-limit: { unit: TOKENS, algorithm: sliding-window, capacity: 50000, window: 60s }
    embedding:
      rate-limit: { capacity: 10, rate: 1 }
      instances: [{ name: e, base-url: "http://127.0.0.1:9000" }]
auth:
  keys:
    - name: a
      key: key-aaaa-0001
      rate-limit: { unit: tokens, algorithm: fixed-window, capacity: 60000, window: 1m }
`);
  assert.equal(config.services.chat.rateLimit?.unit, "tokens");
  assert.equal(config.services.chat.instances[0].rateLimit?.unit, "tokens");
  assert.equal(config.auth.keys[0].rateLimit?.unit, "tokens");
  assert.equal(config.services.embedding.rateLimit?.unit, undefined);
});
