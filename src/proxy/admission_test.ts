/**
 * The admission queue on the request path, in process on manual time: `max-concurrency` and the
 * queue's `max-size`, `max-wait`, priority (API key and header) and client aborts, streams holding
 * their slot until they end — each request through `gateway.fetch`, every counter idle at the end.
 */

import assert from "node:assert/strict";
import {
  type Harness,
  harness,
  type PostOptions,
  ScriptedUpstreams,
  serviceConfig,
  settle,
  type Step,
} from "./_testing.ts";
import { type AdmissionWith, DEFERRED, type ScopeDecider } from "./request.ts";
import { clusterDecider } from "../cluster/decider.ts";
import { createClusterLimits } from "../cluster/limits.ts";
import { createMemoryLimits } from "../limiter/backend.ts";

/** A stream that holds its slot for `ms` after its first chunk. */
const held = (ms: number): Step => ({ body: ["data: {}\n\n", ms, "data: [DONE]\n\n"] });
const OK: Step = { json: { choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } } };

const chat = (tag: string) => ({ model: "m", stream: true, messages: [{ role: "user", content: tag }] });

/** The tags of the requests the upstreams received, in order. */
function served(h: Harness): string[] {
  return h.upstreams.calls.map((c) => JSON.parse(c.body).messages[0].content);
}

const queued = (extra: Record<string, unknown> = {}, maxConcurrency = 1) =>
  serviceConfig(["a"], { queue: { "max-size": 10, "max-wait": 5000, ...extra } }, "chat", {
    "max-concurrency": maxConcurrency,
  });

/**
 * Model `m` on `a` (`max-concurrency: 1`; left out with `withM: false`) with the fallback chain
 * `m → m2`, `m2` on `m2At` (default `b`, `m2Max` its max-concurrency), round robin, a queue.
 */
function chained(
  o: { m2At?: string; m2Max?: number; withM?: boolean; extra?: Record<string, unknown> } = {},
) {
  return {
    model: {
      fallbacks: { m: ["m2"] },
      services: {
        chat: {
          "load-balance": { type: "round-robin" },
          "health-check": { enabled: false },
          queue: { "max-size": 10, "max-wait": 5000 },
          ...o.extra,
          instances: [
            ...(o.withM === false
              ? []
              : [{ name: "m", "base-url": ScriptedUpstreams.url("a"), "max-concurrency": 1 }]),
            {
              name: "m2",
              "base-url": ScriptedUpstreams.url(o.m2At ?? "b"),
              ...(o.m2Max === undefined ? {} : { "max-concurrency": o.m2Max }),
            },
          ],
        },
      },
    },
  };
}

/** Posts `tag` and returns the pending response (read with `text`). */
function post(h: Harness, tag: string, options?: PostOptions): Promise<Response> {
  return h.post(chat(tag), options);
}

function depth(h: Harness): number {
  return h.gateway.state.budgets.get("chat")!.depth;
}

Deno.test("admission: a request finding the instance at max-concurrency waits, then takes the freed slot", async () => {
  const h = harness(queued(), { a: [held(1000)] });
  const first = await post(h, "r0");
  const second = post(h, "r1");
  await settle();
  assert.equal(depth(h), 1, "r1 waits in the queue");
  assert.equal(h.upstream("a").stats.inFlight, 1, "never above max-concurrency");
  const firstBody = first.text();
  await h.time.advance(1000); // r0's stream ends: its slot goes to r1
  await firstBody;
  const res = await second;
  assert.equal(res.status, 200);
  assert.equal(depth(h), 0);
  assert.equal(h.upstream("a").stats.inFlight, 1, "r1 holds the slot while it streams");
  const body = res.text();
  await h.time.advance(1000);
  await body;
  assert.deepEqual(served(h), ["r0", "r1"]);
  const metrics = await h.gateway.metrics.render();
  assert.match(metrics, /dairouter_queue_wait_seconds_count\{service="chat",outcome="served"\} 1/);
  assert.match(metrics, /dairouter_queue_depth\{service="chat"\} 0/);
  h.assertIdle();
});

Deno.test("admission: higher priority first, FIFO within a priority (header), the key's level caps it", async () => {
  const config = queued({ priority: "header:X-Priority" });
  const h = harness(config, { a: [held(100)] });
  const r0 = await post(h, "r0");
  const order = [["low", "1"], ["hi-1", "5"], ["none", undefined], ["hi-2", "5"], ["bad", "x"], ["top", "9"]];
  const pending = order.map(([tag, p]) =>
    post(h, tag!, { headers: p === undefined ? {} : { "x-priority": p } }).then((r) => r.text())
  );
  await settle();
  assert.equal(depth(h), order.length);
  const bodies = [r0.text(), ...pending];
  for (let i = 0; i <= order.length; i++) await h.time.advance(100);
  await Promise.all(bodies);
  assert.deepEqual(served(h), ["r0", "top", "hi-1", "hi-2", "low", "none", "bad"]);
  h.assertIdle();
});

Deno.test("admission: an API key's priority orders the queue; a header cannot raise it", async () => {
  const config = {
    ...queued({ priority: "header:X-Priority" }) as Record<string, unknown>,
    auth: {
      keys: [
        { name: "batch", key: "batch-key-0001", priority: 1 },
        { name: "interactive", key: "interactive-key-01", priority: 8 },
      ],
    },
  };
  const h = harness(config, { a: [held(100)] });
  const as = (key: string, extra: Record<string, string> = {}) => ({
    headers: { authorization: `Bearer ${key}`, ...extra },
  });
  const r0 = await post(h, "r0", as("batch-key-0001"));
  const pending = [
    post(h, "batch-asks-9", as("batch-key-0001", { "x-priority": "9" })),
    post(h, "interactive", as("interactive-key-01")),
    post(h, "interactive-lowers", as("interactive-key-01", { "x-priority": "0" })),
  ].map((p) => p.then((r) => r.text()));
  await settle();
  const bodies = [r0.text(), ...pending];
  for (let i = 0; i < 4; i++) await h.time.advance(100);
  await Promise.all(bodies);
  assert.deepEqual(served(h), ["r0", "interactive", "batch-asks-9", "interactive-lowers"]);
  h.assertIdle();
});

Deno.test("admission: max-wait passes → 503 queue_timeout with Retry-After; nothing held", async () => {
  const h = harness(queued({ "max-wait": 2000 }), { a: [held(5000)] });
  const rest = (await post(h, "r0")).text();
  const second = post(h, "r1");
  await h.time.advance(2000);
  const res = await second;
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "2");
  const body = await res.json();
  assert.equal(body.error.code, "queue_timeout");
  assert.equal(depth(h), 0);
  await h.time.advance(3000);
  await rest;
  assert.deepEqual(served(h), ["r0"]);
  assert.match(h.logs.join("\n"), /"status":503.*"error":"queue_timeout"/);
  const metrics = await h.gateway.metrics.render();
  assert.match(metrics, /dairouter_queue_wait_seconds_sum\{service="chat",outcome="timeout"\} 2/);
  h.assertIdle();
});

Deno.test("admission: a full queue is a 429 queue_full at once; without a queue too", async () => {
  for (
    const [config, size] of [[queued({ "max-size": 1 }), 1], [
      serviceConfig(["a"], {}, "chat", { "max-concurrency": 1 }),
      0,
    ]] as const
  ) {
    const h = harness(config, { a: [held(1000)] });
    const first = await post(h, "r0");
    const waiting = size > 0 ? [post(h, "r1")] : [];
    await settle();
    const res = await post(h, "r2");
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), size > 0 ? "5" : "1");
    const body = await res.json();
    assert.equal(body.error.code, "queue_full");
    assert.equal(body.error.type, "rate_limit_error");
    const bodies = [first.text(), ...waiting.map((p) => p.then((r) => r.text()))];
    await h.time.advance(1000);
    await h.time.advance(1000);
    await Promise.all(bodies);
    assert.deepEqual(served(h), size > 0 ? ["r0", "r1"] : ["r0"]);
    h.assertIdle();
  }
});

Deno.test("admission: a client that leaves the queue leaves at once; the next waiter gets the slot", async () => {
  const h = harness(queued(), { a: [held(1000)] });
  const first = await post(h, "r0");
  const client = new AbortController();
  const leaving = post(h, "gone", { signal: client.signal });
  const staying = post(h, "r2");
  await settle();
  assert.equal(depth(h), 2);
  client.abort();
  await settle();
  assert.equal(depth(h), 1, "left at once, before any slot freed");
  assert.equal((await leaving).status, 499);
  assert.match(h.logs.join("\n"), /"status":499.*"error":"client_abort"/);
  const bodies = [first.text(), staying.then((r) => r.text())];
  await h.time.advance(1000);
  await h.time.advance(1000);
  await Promise.all(bodies);
  assert.deepEqual(served(h), ["r0", "r2"]);
  h.assertIdle();
});

Deno.test("admission: a waiting request goes to whichever instance frees first; max-concurrency per instance", async () => {
  const h = harness(
    serviceConfig(["a", "b"], { queue: { "max-size": 10 } }, "chat", { "max-concurrency": 2 }),
    { a: [held(300)], b: [held(500)] },
  );
  const first = await Promise.all([0, 1, 2, 3].map((i) => post(h, `r${i}`)));
  const late = post(h, "late");
  await settle();
  assert.equal(h.upstream("a").stats.inFlight, 2);
  assert.equal(h.upstream("b").stats.inFlight, 2);
  assert.equal(depth(h), 1);
  const bodies = [...first.map((r) => r.text()), late.then((r) => r.text())];
  await h.time.advance(300); // a's two streams end first
  assert.equal(h.upstreams.calls.at(-1)!.instance, "a");
  await h.time.advance(500);
  await Promise.all(bodies);
  h.assertIdle();
});

Deno.test("admission: a waiter nothing can serve any more (breaker opened) gets its 503 at the next release, not at max-wait", async () => {
  const config = queued({}) as { model: { services: { chat: Record<string, unknown> } } };
  config.model.services.chat["circuit-breaker"] = { "failure-threshold": 1, timeout: 60_000 };
  const h = harness(config, { a: [held(1000), OK] });
  const first = await post(h, "r0");
  const second = post(h, "r1");
  await settle();
  h.upstream("a").breaker.onFailure(); // opened while r0 still streams
  const body = first.text();
  await h.time.advance(1000);
  await body;
  const res = await second;
  assert.equal(res.status, 503);
  assert.match((await res.json()).error.message, /1 circuit-open/);
  assert.deepEqual(served(h), ["r0"]);
  h.assertIdle();
});

Deno.test("admission: a request that finds its model full waits for it; the fallback chain is for a model with nothing", async () => {
  const config = chained();
  const h = harness(config, { a: [held(500)], b: [held(500)] });
  const first = (await post(h, "r0")).text();
  const second = post(h, "r1");
  await settle();
  assert.equal(depth(h), 1, "r1 waits for m rather than falling back to m2");
  await h.time.advance(500);
  await first;
  const res = await second;
  assert.equal(res.headers.get("x-dairouter-fallback"), null);
  const body = res.text();
  await h.time.advance(500);
  await body;
  assert.deepEqual(h.upstreams.tried, ["a", "a"]);
  h.assertIdle();
});

Deno.test("admission: a reload that adds room serves the waiters at once, in the live table's instances", async (t) => {
  const cases: { name: string; next: unknown; to: string }[] = [
    { name: "max-concurrency raised", next: queued({}, 2), to: "a" },
    {
      name: "an instance added",
      next: serviceConfig(["a", "b"], { queue: { "max-size": 10, "max-wait": 5000 } }, "chat", {
        "max-concurrency": 1,
      }),
      to: "b",
    },
    { name: "max-concurrency dropped (no gate left)", next: serviceConfig(["a"]), to: "a" },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const h = harness(queued(), { a: [held(1000)], b: [held(1000)] });
      const first = (await post(h, "r0")).text();
      const second = post(h, "r1");
      await settle();
      assert.equal(depth(h), 1, "r1 waits");
      h.reload(c.next);
      await settle();
      const res = await second; // before r0 ends: the new room is handed to r1 at once
      assert.equal(res.status, 200);
      assert.equal(depth(h), 0);
      assert.deepEqual(h.upstreams.tried, ["a", c.to]);
      const body = res.text();
      await h.time.advance(1000);
      await Promise.all([first, body]);
      h.assertIdle();
    });
  }
});

Deno.test("admission: after a reload that moves the waiters' model, they go to its new instances", async () => {
  const h = harness(queued(), { a: [held(1000)], b: [OK] });
  const first = (await post(h, "r0")).text();
  const second = post(h, "r1");
  await settle();
  h.reload(serviceConfig(["b"])); // model m on b only, no limit
  await settle();
  const res = await second;
  assert.equal(res.status, 200, "r1 goes to the live instance of its model");
  await res.text();
  await h.time.advance(1000);
  await first;
  assert.deepEqual(h.upstreams.tried, ["a", "b"]);
  h.assertIdle();
});

Deno.test("admission: a reload that removes the waiters' model ends their wait with a 503 at once", async () => {
  const h = harness(queued(), { a: [held(1000)] });
  const first = (await post(h, "r0")).text();
  const second = post(h, "r1");
  await settle();
  const next = serviceConfig(["a"]) as { model: { services: { chat: { instances: { name: string }[] } } } };
  next.model.services.chat.instances[0].name = "other";
  h.reload(next);
  await settle();
  const res = await second; // not at max-wait (5 s): manual time has not moved
  assert.equal(res.status, 503);
  assert.match((await res.json()).error.message, /no available instance for model "m"/);
  assert.equal(depth(h), 0);
  await h.time.advance(1000);
  await first;
  assert.deepEqual(h.upstreams.tried, ["a"]);
  h.assertIdle();
});

Deno.test("admission: a request queued behind others is decided by the cluster-wide request limits before it waits", async () => {
  let calls = 0;
  const denied = {
    allowed: false as const,
    reason: "rate-limited" as const,
    scope: "global" as const,
    decision: { allowed: false, retryAfterMs: 1000, limit: 2, remaining: 0, resetMs: 1000 },
  };
  // The shared limit (decided with the first pick, as the Redis decider does) allows two requests.
  const limits: ScopeDecider = {
    decide: () => DEFERRED,
    decideWith:
      () => (++calls <= 2
        ? { admission: undefined, instance: undefined }
        : { admission: denied, instance: undefined }),
  };
  const h = harness(queued(), { a: [held(100)] }, limits);
  const first = (await post(h, "r0")).text();
  const second = post(h, "r1"); // waits: a is full
  await settle();
  const third = await post(h, "r2"); // behind r1: nothing is picked for it, its limits are decided all the same
  assert.equal(third.status, 429);
  assert.equal((await third.json()).error.code, "rate_limit_exceeded");
  assert.equal(calls, 3);
  assert.equal(depth(h), 1, "only r1 waits");
  await h.time.advance(100);
  await first;
  const res = await second;
  const body = res.text();
  await h.time.advance(100);
  await body;
  assert.deepEqual(served(h), ["r0", "r1"]);
  h.assertIdle();
});

Deno.test("admission: after following a reload, a waiter's fallback chain is the new table's", async () => {
  const config = (m2At: string, withM: boolean) => chained({ m2At, withM });
  const h = harness(config("b", true), { a: [held(1000)], b: [OK], c: [OK] });
  const first = (await post(h, "r0")).text();
  const second = post(h, "r1");
  await settle();
  h.reload(config("c", false)); // m is gone; m2 moved from b to c
  await settle();
  const res = await second;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-dairouter-model"), "m2");
  await res.text();
  await h.time.advance(1000);
  await first;
  assert.deepEqual(h.upstreams.tried, ["a", "c"], "m2 on its live instance, not the removed one");
  h.assertIdle();
});

Deno.test("admission: a reload that turns the queue off (or shrinks it) keeps those already waiting; they are served", async () => {
  const h = harness(queued(), { a: [held(1000)] });
  const first = (await post(h, "r0")).text();
  const waiting = [post(h, "r1"), post(h, "r2")];
  await settle();
  h.reload(queued({ enabled: false }));
  await settle();
  assert.equal(depth(h), 2, "still waiting, not dropped");
  await h.time.advance(1000); // r0 ends: r1 gets the slot
  await first;
  const r1 = await waiting[0];
  assert.equal(r1.status, 200);
  const b1 = r1.text();
  await h.time.advance(1000);
  await b1;
  const r2 = await waiting[1];
  assert.equal(r2.status, 200);
  const b2 = r2.text();
  await h.time.advance(1000);
  await b2;
  assert.deepEqual(served(h), ["r0", "r1", "r2"]);
  assert.equal(depth(h), 0);
  h.assertIdle();
});

Deno.test("admission: waiters that move on to a fallback model together never exceed its max-concurrency", async () => {
  const config = chained({
    m2Max: 1,
    extra: {
      "circuit-breaker": { "failure-threshold": 1, timeout: 60_000 },
      queue: { "max-size": 10, "max-wait": 30_000 },
    },
  });
  const h = harness(config, { a: [held(1000)], b: [held(1000)] });
  const first = (await post(h, "r0")).text();
  const waiting = ["r1", "r2", "r3"].map((tag) => post(h, tag));
  await settle();
  h.upstream("a").breaker.onFailure(); // m can serve nobody any more
  await h.time.advance(1000); // r0 ends: its release tells the waiters, who all move on to m2
  await first;
  assert.equal(h.upstreams.calls.filter((c) => c.instance === "b").length, 1, "one at a time on b");
  assert.equal(h.upstream("b").stats.inFlight, 1);
  assert.equal(depth(h), 2, "the others wait in m2's queue");
  for (const res of waiting) {
    const r = await res;
    assert.equal(r.status, 200);
    assert.equal(h.upstream("b").stats.inFlight, 1, "never above max-concurrency");
    const body = r.text();
    await h.time.advance(1000);
    await body;
  }
  assert.deepEqual(served(h), ["r0", "r1", "r2", "r3"]);
  h.assertIdle();
});

Deno.test("admission: a retry after a reload is picked in the live table, within its max-concurrency", async () => {
  const config = (max: number) => ({
    model: {
      services: {
        chat: {
          "load-balance": { type: "round-robin" },
          "health-check": { enabled: false },
          retry: { "max-attempts": 2 },
          queue: { "max-size": 10, "max-wait": 30_000 },
          instances: ["a", "b"].map((l) => ({
            name: "m",
            "base-url": ScriptedUpstreams.url(l),
            "max-concurrency": max,
          })),
        },
      },
    },
  });
  // b: r1 holds it; a: r0 waits 500 ms, then fails (500) and retries.
  const h = harness(config(2), { a: [{ body: [500, "reset"] }], b: [held(2000)] });
  const r0 = post(h, "r0");
  const r1 = await post(h, "r1");
  await settle();
  h.reload(config(1)); // b is now full with r1
  await h.time.advance(500); // r0's attempt on a fails: its retry must wait for b, not join r1 there
  await settle();
  assert.equal(h.upstream("b").stats.inFlight, 1, "not above the new max-concurrency");
  const body = r1.text();
  await h.time.advance(2000);
  await body;
  const res = await r0;
  assert.equal(res.status, 200);
  const rest = res.text();
  await h.time.advance(2000);
  await rest;
  assert.deepEqual(h.upstreams.tried, ["a", "b", "b"]);
  h.assertIdle();
});

/** A gated pool whose instances have a limit of their own (so a cluster decider is asked per pick). */
const gatedLimited = (labels = ["a"], extra: Record<string, unknown> = {}) =>
  serviceConfig(labels, { queue: { "max-size": 10, "max-wait": 5000 }, ...extra }, "chat", {
    "max-concurrency": 1,
    "rate-limit": { capacity: 100, rate: 100 },
  });

for (const mode of ["throws", "rejects"] as const) {
  Deno.test(`admission: a cluster instance decision that ${mode} gives back the slot its pick held`, async () => {
    const limits: ScopeDecider = {
      decide: () => undefined,
      instance: () => {
        if (mode === "throws") throw new Error("limits unavailable");
        return Promise.reject(new Error("limits unavailable"));
      },
    };
    const h = harness(gatedLimited(), { a: [held(10)] }, limits);
    const res = await post(h, "r0");
    await res.text();
    await settle();
    assert.ok(res.status >= 500, `status ${res.status}`);
    h.assertIdle();
  });
}

Deno.test("admission: the real cluster decider, its backend down before a retry (on-unavailable: deny): no slot held", async () => {
  let calls = 0;
  const limits = clusterDecider(createClusterLimits({
    backend: createMemoryLimits(() => 0),
    up: () => ++calls === 1, // the backend answers the first decision, is down for the next
    onUnavailable: "deny",
  }));
  const h = harness(gatedLimited(["a", "b"], { retry: { "max-attempts": 2 } }), {
    a: [{ status: 500, json: { error: "boom" } }],
    b: [held(10)],
  }, limits);
  const res = await post(h, "r0"); // a: 500; the retry's pick of b asks the backend, which is down
  await res.text();
  await settle();
  assert.equal(h.upstream("b").stats.inFlight, 0);
  h.assertIdle();
});

Deno.test("admission: a reload that removes the model while a pick's cluster decision is pending serves nobody on it", async () => {
  const pending: PromiseWithResolvers<AdmissionWith>[] = [];
  const limits: ScopeDecider = {
    decide: () => DEFERRED,
    decideWith: () => {
      const p = Promise.withResolvers<AdmissionWith>();
      pending.push(p);
      return p.promise;
    },
  };
  const ALLOW: AdmissionWith = { admission: undefined, instance: undefined };
  const DENY_INSTANCE: AdmissionWith = {
    admission: undefined,
    instance: { allowed: false, retryAfterMs: 1000, limit: 1, remaining: 0, resetMs: 1000 },
  };
  const config = serviceConfig(["a", "b"], { queue: { "max-size": 10, "max-wait": 5000 } }, "chat", {
    "max-concurrency": 1,
  });
  const h = harness(
    config,
    { a: [{ json: { choices: [] } }, held(100)], b: [held(10)], c: [held(10)] },
    limits,
  );
  const rx = post(h, "rx"); // a, answered at once (round robin moves on to b)
  await settle();
  pending[0].resolve(ALLOW);
  await (await rx).text();
  const r0 = post(h, "r0"); // b, held
  await settle();
  pending[1].resolve(ALLOW);
  const b0 = (await r0).text();
  const r1 = post(h, "r1"); // b is full; a is picked, its decision pending
  await settle();
  h.reload({
    model: {
      services: {
        chat: {
          "health-check": { enabled: false },
          queue: { "max-size": 10, "max-wait": 5000 },
          instances: [{ name: "other", "base-url": ScriptedUpstreams.url("c") }],
        },
      },
    },
  });
  pending[2].resolve(DENY_INSTANCE); // a refused: model m is gone, nothing is full "here"
  await settle();
  await h.time.advance(100); // r0's stream ends: its release drains the old queue
  await b0;
  const res = await r1;
  assert.equal(res.status, 429, "a's refusal, not a wait in the removed model's queue");
  await res.text();
  assert.deepEqual(h.upstreams.tried, ["a", "b"], "nobody served on an instance the reload removed");
  h.assertIdle();
});

Deno.test("admission: a slot handed over from the queue still asks the cluster's instance limit", async () => {
  let asked = 0;
  // The cluster's instance limit allows one request, then says no (request-level limits allow all).
  const limits: ScopeDecider = {
    decide: () => undefined,
    instance: () => {
      asked++;
      return Promise.resolve(
        asked === 1
          ? undefined
          : { allowed: false, retryAfterMs: 3000, limit: 1, remaining: 0, resetMs: 3000 },
      );
    },
  };
  const h = harness(gatedLimited(), { a: [held(100)] }, limits);
  const first = (await post(h, "r0")).text();
  const second = post(h, "r1"); // waits: a is full
  await settle();
  assert.equal(depth(h), 1);
  await h.time.advance(100); // r0 ends: r1 is handed a's slot, and the cluster's limit is asked
  await first;
  const res = await second;
  assert.equal(res.status, 429, "the cluster-wide instance limit, not the in-process one");
  assert.equal(res.headers.get("retry-after"), "3");
  await res.text();
  assert.equal(asked, 2);
  assert.deepEqual(served(h), ["r0"]);
  h.assertIdle();
});
