import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import { createGateway } from "../gateway.ts";
import { accessRecord } from "../observe/_testing.ts";
import type { AccessRecord } from "../types.ts";
import { createSnapshots, withoutCredentials } from "./snapshot.ts";
import { createConsoleStats } from "./stats.ts";

const T0 = 1_700_000_000_000;
const yaml = (extra = "") =>
  `model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "http://u:pw@127.0.0.1:1" }
        - { name: m, base-url: "http://127.0.0.1:2", weight: 3 }
        - { name: other, base-url: "http://127.0.0.1:3", enabled: false }
${extra}`;

function setup(extra = "") {
  let now = T0;
  const clock = () => now;
  const { config } = parseConfig(yaml(extra), { source: "t.yaml", env: {} });
  const gateway = createGateway(config, { clock, random: () => 0.5, fetch, write: () => {} });
  const stats = createConsoleStats({ clock });
  const snaps = createSnapshots({
    clock,
    version: "1.2.3",
    startedAt: T0 - 65_000,
    stats,
    loadOf: (u) => (u.id.endsWith(":2") ? { queueDepth: 4, kvCacheUsage: 0.5 } : undefined),
  });
  const rec = (instance: string, status: number, extra: Partial<AccessRecord> = {}): AccessRecord =>
    accessRecord({ model: "m", instance, status, durationMs: 5, ttftMs: 40, tokensOut: 10, ...extra });
  return { gateway, stats, snaps, rec, tick: (ms: number) => (now += ms), config };
}

Deno.test("snapshot: per service → model → instance, drained ones included, rates from the ring", () => {
  const { gateway, stats, snaps, rec, tick, config } = setup();
  const [a, b] = config.services.chat.instances.map((i) => i.id);
  for (let s = 0; s < 10; s++) {
    stats.record(rec(a, 200));
    stats.record(rec(a, 502));
    stats.record(rec(b, 200));
    tick(1000);
  }
  const t = snaps.tick(gateway.runtime(), 0);
  assert.equal(t.sec, Math.floor(T0 / 1000) + 9);
  assert.equal(t.uptimeS, 75);
  assert.equal(t.services.length, 1, "only services with instances");
  const chat = t.services[0];
  assert.deepEqual(chat.models.map((m) => m.name), ["m", "other"]);
  const [ia, ib] = chat.models[0].instances;
  assert.equal(ia.url, "http://127.0.0.1:1", "no credentials");
  assert.equal(ia.rps, 2);
  assert.equal(ia.errorRatio, 0.5);
  assert.equal(ia.tokensPerS, 20);
  assert.ok(ia.ttftP50! > 25 && ia.ttftP50! <= 50);
  assert.equal(ib.weight, 3);
  assert.deepEqual(ib.load, { queueDepth: 4, kvCacheUsage: 0.5 }, "engine load when known");
  assert.equal(ia.load, undefined, "absent otherwise");
  const drained = chat.models[1].instances[0];
  assert.equal(drained.enabled, false);
  assert.equal(drained.rps, 0);
  assert.equal(chat.status, "degraded", "a drained instance is not up");
  // p95 of two samples in (25, 50]: 25 + 25 × 1.9 / 2, interpolated inside the bucket.
  assert.deepEqual(t.points.instances[a], [2, 1, 49, 20]);
  assert.equal(t.recent.length, 10, "the 502s");
  assert.equal(snaps.tick(gateway.runtime(), t.recent.at(-1)!.seq).recent.length, 0);
});

Deno.test("snapshot: an instance whose attempts fail over shows its errors; a stream broken after its 200 is one", () => {
  const { gateway, stats, snaps, rec, tick, config } = setup();
  const [a, b] = config.services.chat.instances.map((i) => i.id);
  for (let s = 0; s < 10; s++) {
    // Every request tries a first, fails, and is served by b: the access record names b only.
    stats.attemptFailed(a);
    stats.record(rec(b, 200, { retries: 1 }));
    tick(1000);
  }
  stats.record(rec(b, 200, { stream: true, error: "upstream_body" }));
  tick(1000);
  const t = snaps.tick(gateway.runtime(), 0);
  const [ia, ib] = t.services[0].models[0].instances;
  assert.equal(ia.errorRatio, 1, "every attempt on a failed");
  assert.ok(ia.rps > 0);
  assert.equal(ib.errorRatio, 1 / 11, "b's one broken stream");
  assert.equal(
    t.services[0].errorRatio,
    1 / 11,
    "the service counts requests: only the broken stream failed",
  );
  assert.deepEqual(
    snaps.hello(gateway.runtime(), "admin", undefined).history.instances[a].errors.slice(-11),
    [
      ...Array(10).fill(1),
      0,
    ],
  );
});

Deno.test("snapshot: hello carries the redacted config, its revision and the history; a reload changes the revision", () => {
  const { gateway, stats, snaps, rec, tick, config } = setup();
  stats.record(rec(config.services.chat.instances[0].id, 200));
  tick(3000);
  const hello = snaps.hello(gateway.runtime(), "admin", "/admin");
  assert.equal(hello.version, "1.2.3");
  assert.equal(hello.adminPath, "/admin");
  assert.match(hello.revision.hash, /^[0-9a-f]{12}$/);
  assert.ok(!JSON.stringify(hello).includes("pw@"), "no URL password anywhere");
  assert.deepEqual(hello.history.services.chat.requests, [1, 0, 0]);
  const next = parseConfig(yaml().replace("weight: 3", "weight: 4"), { source: "t.yaml", env: {} }).config;
  gateway.reload(next);
  assert.notEqual(snaps.tick(gateway.runtime(), 0).revision.hash, hello.revision.hash);
  // The same config again gives the same revision: it names content, not a count.
  gateway.reload(parseConfig(yaml(), { source: "t.yaml", env: {} }).config);
  assert.equal(snaps.tick(gateway.runtime(), 0).revision.hash, hello.revision.hash);
});

Deno.test("snapshot: a reload that removes an instance frees its series", () => {
  const { gateway, stats, snaps, rec, config } = setup();
  const gone = config.services.chat.instances[1].id;
  stats.record(rec(gone, 200));
  snaps.tick(gateway.runtime(), 0);
  assert.ok([...stats.instances.keys()].includes(gone));
  gateway.reload(parseConfig(yaml().replace(/.*weight: 3 }\n/, ""), { source: "t.yaml", env: {} }).config);
  snaps.tick(gateway.runtime(), 0);
  assert.ok(![...stats.instances.keys()].includes(gone));
});

Deno.test("withoutCredentials() strips user:password@ from every URL in a text", () => {
  assert.equal(
    withoutCredentials("error sending request for url (http://a:b@127.0.0.1:9/v1/models): refused"),
    "error sending request for url (http://127.0.0.1:9/v1/models): refused",
  );
  assert.equal(
    withoutCredentials("http://tok3n@127.0.0.1:9 http://a:b@c@127.0.0.1:8/"),
    "http://127.0.0.1:9 http://127.0.0.1:8/",
  );
});

Deno.test("snapshot: each tick carries the process's memory and loop lag when given a source, else none", () => {
  const { gateway, stats } = setup();
  let rss = 100e6;
  const withProcess = createSnapshots({
    clock: () => T0,
    version: "1",
    startedAt: T0,
    stats,
    process: () => ({ rssBytes: rss += 1e6, lagMs: 12 }),
  });
  assert.deepEqual(withProcess.tick(gateway.runtime(), 0).process, { rssBytes: 101e6, lagMs: 12 });
  assert.deepEqual(
    withProcess.tick(gateway.runtime(), 0).process,
    { rssBytes: 102e6, lagMs: 12 },
    "read each tick",
  );
  const without = createSnapshots({ clock: () => T0, version: "1", startedAt: T0, stats });
  assert.equal("process" in without.tick(gateway.runtime(), 0), false);
});
