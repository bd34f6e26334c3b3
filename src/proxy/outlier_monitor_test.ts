/**
 * Latency outlier detection through the gateway, in process on manual time: a hung instance (it
 * accepts and never answers) is ejected once its oldest request has waited `factor ×` the pool's
 * p90 first-byte time — not before — and that request fails over; no more than
 * `max-ejection-percent` of the pool is ejected; the instance comes back after the ejection time;
 * the console shows the ejection with its reason; every counter ends at zero.
 */

import assert from "node:assert/strict";
import { createConsoleStats } from "../console/stats.ts";
import { createSnapshots } from "../console/snapshot.ts";
import { CHAT, type Harness, harness, serviceConfig, settle, type Step } from "./_testing.ts";

const C1 = 'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n';
const DONE = "data: [DONE]\n\n";
/** An answer whose first byte comes 400 ms (manual time) after the request. */
const SLOW: Step = { body: [400, C1, DONE] };
const HANG: Step = "hang";

/** min-wait 1 s, factor 5: with a 400 ms p90 the threshold is 2 s. */
const outlier = (extra: Record<string, unknown> = {}) => ({
  "outlier-detection": {
    interval: 100,
    factor: 5,
    "min-wait": 1000,
    "base-ejection-time": 5000,
    ...extra,
  },
});

/** Sends a request and moves time until its answer is read. */
async function served(h: Harness, ms = 400): Promise<number> {
  const res = h.post(CHAT);
  await h.time.advance(ms);
  const r = await res;
  await r.text();
  return r.status;
}

/** Nine 400 ms answers round the pool of three: the reference (p90) is 400 ms. */
async function warmUp(h: Harness): Promise<void> {
  for (let i = 0; i < 9; i++) assert.equal(await served(h), 200);
  assert.equal(h.gateway.runtime().services.chat.pools.get("m")!.firstByteTimes.reference(), 400);
}

/** Sends requests until one waits on `label` (round-robin moves on with ejections and failovers). */
async function stuckOn(h: Harness, label: string): Promise<{ start: number; stuck: Promise<Response> }> {
  for (;;) {
    const start = h.time.now();
    const stuck = h.post(CHAT);
    await settle();
    if (h.upstreams.tried.at(-1) === label) return { start, stuck };
    await h.time.advance(400);
    await (await stuck).text();
  }
}

/** The instances waiting with no answer yet, as labels. */
const ejected = (h: Harness, labels: string[]) => labels.filter((l) => !h.upstream(l).health.healthy);

Deno.test("outlier detection: a hung instance is ejected after factor × the pool's p90, its request fails over, it comes back after the ejection time", async () => {
  const h = harness(serviceConfig(["a", "b", "c"], outlier()), {
    a: [SLOW, SLOW, SLOW, HANG, SLOW],
    b: [SLOW],
    c: [SLOW],
  });
  await warmUp(h);
  const t0 = h.time.now();
  const stuck = h.post(CHAT); // → a, which now hangs
  await settle();
  await h.time.advance(10);
  assert.equal(await served(h), 200, "b answers a request that came after the stuck one");
  await h.time.advance(1500 - h.time.now() + t0);
  assert.deepEqual(ejected(h, ["a", "b", "c"]), [], "1.5 s is past min-wait but not 5 × 400 ms");
  await h.time.advance(2000 - h.time.now() + t0);
  assert.deepEqual(ejected(h, ["a", "b", "c"]), ["a"], "ejected at 2 s");
  const a = h.upstream("a");
  assert.match(
    a.health.snapshot().reason,
    /^latency outlier: a request waited 2 s without a first byte \(pool p90 400 ms × 5, at least 1 s\); ejected for 5 s$/,
  );
  assert.equal(a.health.ejectedUntil, t0 + 2000 + 5000);
  assert.equal(a.breaker.snapshot().failures, 0, "the ejected attempt is not a breaker failure");
  // The console lists it as unhealthy with that reason.
  const snaps = createSnapshots({
    clock: h.time.now,
    version: "t",
    startedAt: t0,
    stats: createConsoleStats({ clock: h.time.now }),
  });
  const view = snaps.tick(h.gateway.runtime(), 0).services[0].models[0].instances.find((i) => i.id === a.id)!;
  assert.equal(view.healthy, false);
  assert.match(view.healthReason!, /^latency outlier: /);

  await h.time.advance(400);
  const res = await stuck;
  assert.equal(res.status, 200, "the stuck request was served by another instance");
  await res.text();
  assert.deepEqual(h.upstreams.tried.slice(9), ["a", "b", "c"]);
  assert.equal(h.upstreams.calls[9].signal.aborted, true);

  await h.time.advance(t0 + 7000 - h.time.now() - 1);
  assert.equal(a.health.healthy, false, "out for the whole ejection time");
  await h.time.advance(100);
  assert.equal(a.health.healthy, true, "back once it is over");
  assert.equal(a.health.snapshot().reason, "latency outlier ejection ended");
  assert.equal(await served(h), 200);
  const health = h.logs.map((l) => JSON.parse(l)).filter((l) => l.event === "health");
  assert.deepEqual(health.map((l) => [l.msg, l.instance]), [["instance ejected", a.id], [
    "instance recovered",
    a.id,
  ]]);
  h.assertIdle();
});

Deno.test("outlier detection: a second ejection in a row lasts twice as long", async () => {
  const h = harness(serviceConfig(["a", "b", "c"], outlier()), {
    a: [SLOW, SLOW, SLOW, HANG],
    b: [SLOW],
    c: [SLOW],
  });
  await warmUp(h);
  const a = h.upstream("a");
  for (const length of [5000, 10_000]) {
    const { start, stuck } = await stuckOn(h, "a");
    await h.time.advance(10);
    assert.equal(await served(h), 200);
    await h.time.advance(start + 2000 - h.time.now());
    assert.equal(a.health.ejectedUntil, start + 2000 + length);
    await h.time.advance(400);
    const res = await stuck;
    assert.equal(res.status, 200);
    await res.text();
    await h.time.advance(a.health.ejectedUntil - h.time.now());
    assert.equal(a.health.healthy, true);
  }
  h.assertIdle();
});

Deno.test("outlier detection: never more than max-ejection-percent of a pool (at least one), the longest stalled first", async () => {
  for (const [percent, expected] of [[10, ["a"]], [100, ["a", "b"]]] as const) {
    const h = harness(
      serviceConfig(["a", "b", "c"], {
        ...outlier({ "max-ejection-percent": percent }),
        timeouts: { connect: 0, "first-byte": 5000 },
      }),
      { a: [SLOW, SLOW, SLOW, HANG], b: [SLOW, SLOW, SLOW, HANG], c: [SLOW] },
    );
    await warmUp(h);
    const t0 = h.time.now();
    const first = h.post(CHAT); // → a
    await settle();
    await h.time.advance(5);
    const second = h.post(CHAT); // → b
    await settle();
    await h.time.advance(5);
    assert.equal(await served(h), 200, "c answers");
    await h.time.advance(t0 + 2100 - h.time.now());
    assert.deepEqual(ejected(h, ["a", "b", "c"]), expected, `max-ejection-percent ${percent}`);
    if (percent === 10) {
      assert.ok(h.upstream("b").waiting.oldestStart! <= h.time.now() - 2000, "b qualified too, and was kept");
    }
    // Whatever is still stuck meets its first-byte timeout and fails over to c.
    await h.time.advance(10_000);
    for (const p of [first, second]) {
      const res = await p;
      assert.equal(res.status, 200);
      await res.text();
    }
    h.assertIdle();
  }
});

Deno.test("outlier detection: no verdict while the whole pool is slow, or without enough samples, or when off", async () => {
  // Every instance hangs: nobody answers later requests, so nobody is an outlier.
  const all = harness(
    serviceConfig(["a", "b", "c"], {
      ...outlier(),
      timeouts: { connect: 0, "first-byte": 5000 },
      retry: { "max-attempts": 1 },
    }),
    {
      a: [SLOW, SLOW, SLOW, HANG],
      b: [SLOW, SLOW, SLOW, HANG],
      c: [SLOW, SLOW, SLOW, HANG],
    },
  );
  await warmUp(all);
  const stuck = [all.post(CHAT), all.post(CHAT), all.post(CHAT)];
  await all.time.advance(4900);
  assert.deepEqual(ejected(all, ["a", "b", "c"]), []);
  await all.time.advance(100);
  for (const p of stuck) {
    const res = await p;
    assert.equal(res.status, 504);
    await res.text();
  }
  all.assertIdle();

  // Too few samples (a fresh gateway), and detection off: the first-byte timeout decides.
  const cases = [
    { extra: {}, warm: 0, a: [HANG, SLOW] },
    { extra: { enabled: false }, warm: 8, a: [SLOW, SLOW, SLOW, SLOW, HANG, SLOW] },
  ];
  for (const { extra, warm, a } of cases) {
    const h = harness(
      serviceConfig(["a", "b"], { ...outlier(extra), timeouts: { connect: 0, "first-byte": 5000 } }),
      {
        a,
        b: [SLOW],
      },
    );
    for (let i = 0; i < warm; i++) assert.equal(await served(h), 200);
    const { stuck } = await stuckOn(h, "a");
    await h.time.advance(10);
    assert.equal(await served(h), 200);
    await h.time.advance(4900);
    assert.deepEqual(ejected(h, ["a", "b"]), [], JSON.stringify(extra));
    await h.time.advance(500);
    const res = await stuck;
    assert.equal(res.status, 200);
    await res.text();
    h.assertIdle();
  }
});
