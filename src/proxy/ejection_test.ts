/**
 * Ejection failover in process (issue 11, item 12): a request still waiting for its first byte on
 * an instance that is ejected — by its probes, by its breaker opening on other requests' failures,
 * by an operator — gives up at once and is served by another instance; the ejected attempt is not
 * counted against the instance again; a stream already flowing is left alone. Same harness as
 * `dispatch_test.ts`: manual time (these rows never move it: "at once" means no time passes),
 * scripted upstreams, every counter back to zero at the end of each row.
 */

import assert from "node:assert/strict";
import { type Case, CHAT, type Harness, runCases, serviceConfig, settle, type Step } from "./_testing.ts";

const C1 = 'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n';
const DONE = "data: [DONE]\n\n";
const OK: Step = {
  json: {
    id: "c1",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: "hi" } }],
  },
};
const E500: Step = { status: 500, json: { error: "boom" } };
/** Health checks on (so probes and passive results can eject), never run by themselves here. */
const probed = { "health-check": { enabled: true, "unhealthy-threshold": 1 } };

const lastLog = (h: Harness) => JSON.parse(h.logs.at(-1)!) as Record<string, unknown>;
const logsOf = (h: Harness, msg: string) =>
  h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);
/** The probe verdict the prober would record (what `prober.ts` calls on a failing round). */
const probeFails = (label: string) => (h: Harness) => h.upstream(label).health.probeResult(false, "HTTP 503");

/** Asserts that the upstream call `i` was aborted because its instance was ejected. */
function abortedByEjection(h: Harness, i: number): void {
  const signal = h.upstreams.calls[i].signal;
  assert.ok(signal.aborted, "the upstream request was aborted");
  assert.match((signal.reason as Error).message, /^instance ejected: /);
}

const CASES: Case[] = [
  {
    name: "a request waiting on an instance its probe ejects fails over at once, served by another",
    config: serviceConfig(["a", "b"], probed),
    script: { a: ["hang"], b: [OK] },
    drive: probeFails("a"),
    status: 200,
    tried: ["a", "b"],
    after: (h) => {
      abortedByEjection(h, 0);
      const a = h.upstream("a");
      assert.equal(a.health.healthy, false);
      assert.equal(a.breaker.snapshot().failures, 0, "the ejected attempt is not a breaker failure");
      assert.equal(a.health.snapshot().passiveFailures, 0, "nor a passive health failure");
      assert.equal(lastLog(h).retries, 1);
      assert.equal(lastLog(h).instance, h.upstream("b").id);
    },
  },
  {
    name: "headers in but no first byte yet: still waiting, so an ejection fails it over",
    config: serviceConfig(["a", "b"], probed),
    script: { a: [{ body: ["hang"] }], b: [{ body: [C1, DONE] }] },
    request: { ...CHAT, stream: true },
    drive: probeFails("a"),
    status: 200,
    answer: (body) => assert.equal(body, C1 + DONE),
    tried: ["a", "b"],
    after: (h) => {
      abortedByEjection(h, 0);
      assert.equal(h.upstream("a").breaker.snapshot().failures, 0);
    },
  },
  {
    name: "an operator's eject fails over the waiting requests the same way",
    config: serviceConfig(["a", "b"]),
    script: { a: ["hang"], b: [OK] },
    drive: (h) => h.upstream("a").health.eject("operator drain"),
    status: 200,
    tried: ["a", "b"],
    after: (h) => abortedByEjection(h, 0),
  },
  {
    name: "the breaker opening on other requests' failures fails over a request waiting on it",
    config: serviceConfig(["a", "b"], { "circuit-breaker": { "failure-threshold": 1, timeout: 60_000 } }),
    // Round-robin: the request under test waits on a, the next goes to b, the third fails on a.
    script: { a: ["hang", E500], b: [OK] },
    drive: async (h) => {
      await (await h.post(CHAT)).text();
      const third = await h.post(CHAT);
      assert.equal(third.status, 200, "the failing one failed over to b");
      await third.text();
      assert.equal(h.upstream("a").breaker.state, "open");
    },
    status: 200,
    tried: ["a", "b", "a", "b", "b"],
    after: (h) => {
      abortedByEjection(h, 0);
      assert.equal(h.upstream("a").health.snapshot().passiveFailures, 1, "only the 500 counted against a");
    },
  },
  {
    name: "a stream already flowing is not touched when its instance is ejected",
    config: serviceConfig(["a", "b"], probed),
    script: { a: [{ body: [C1, 500, C1, DONE] }], b: [OK] },
    request: { ...CHAT, stream: true },
    read: async (res, h) => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = (await reader.read()).value!;
      h.upstream("a").health.probeResult(false, "HTTP 503");
      assert.equal(h.upstream("a").health.healthy, false);
      const rest = (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
      })();
      await h.time.advance(500);
      await rest;
      return text;
    },
    status: 200,
    answer: (body) => assert.equal(body, C1 + C1 + DONE),
    tried: ["a"],
    after: (h) => {
      assert.equal(h.upstreams.calls[0].signal.aborted, false);
      assert.equal(lastLog(h).error, null);
    },
  },
  {
    // The decision documented in `Exchange.mayRetry`: an ejection failover is not one of max-attempts.
    name: "an ejection failover does not use up retry.max-attempts (1: no failover otherwise)",
    config: serviceConfig(["a", "b"], { ...probed, retry: { "max-attempts": 1 } }),
    script: { a: ["hang"], b: [OK] },
    drive: probeFails("a"),
    status: 200,
    tried: ["a", "b"],
  },
  {
    name: "with nothing left to fail over to: 503 saying the instance was ejected while the request waited",
    config: serviceConfig(["a"], probed),
    script: { a: ["hang"] },
    drive: probeFails("a"),
    status: 503,
    answer: (body) => {
      const e = (body as { error: { code: string; message: string } }).error;
      assert.equal(e.code, "service_unavailable");
      assert.match(
        e.message,
        /the instance was ejected while the request waited \(1 consecutive probe failures/,
      );
    },
    tried: ["a"],
    after: (h) => assert.equal(lastLog(h).status, 503),
  },
  {
    name: "an ejection after the retry budget is spent gives the 503 at once instead of failing over",
    config: serviceConfig(["a", "b"], { ...probed, retry: { budget: 1000 } }),
    script: { a: ["hang"], b: [OK] },
    drive: async (h) => {
      await h.time.advance(1000);
      h.upstream("a").health.probeResult(false);
    },
    status: 503,
    tried: ["a"],
  },
  {
    name: "the client leaving and the instance then ejected: still a 499, no failover",
    config: serviceConfig(["a", "b"], probed),
    script: { a: ["hang"], b: [OK] },
    drive: async (h, client) => {
      client.abort();
      h.upstream("a").health.probeResult(false);
      await settle();
    },
    status: 499,
    tried: ["a"],
  },
];

runCases("ejection", CASES);

Deno.test("ejection: every waiting request of the instance fails over, and each is released once", async () => {
  const { harness } = await import("./_testing.ts");
  const h = harness(serviceConfig(["a", "b", "c"], { ...probed, "load-balance": { type: "random" } }), {
    a: ["hang"],
    b: [OK],
    c: [OK],
  });
  // random() is 0.5 here: every first pick is the middle instance of what is eligible.
  const ups = ["a", "b", "c"].map((l) => h.upstream(l));
  ups[1].health.eject("kept out for the test");
  ups[2].health.eject("kept out for the test");
  const pending = [h.post(CHAT), h.post(CHAT), h.post(CHAT)];
  await settle();
  assert.equal(ups[0].waiting.size, 3);
  assert.equal(ups[0].stats.inFlight, 3);
  ups[1].health.probeResult(true);
  ups[2].health.probeResult(true);
  ups[0].health.probeResult(false, "timeout after 3000 ms");
  assert.equal(ups[0].waiting.size, 0, "all three left the list at once");
  const statuses = await Promise.all(pending.map(async (p) => (await (await p).text(), (await p).status)));
  assert.deepEqual(statuses, [200, 200, 200]);
  assert.equal(h.upstreams.tried.filter((l) => l === "a").length, 3);
  assert.equal(logsOf(h, "instance ejected").length, 3, "the two test ejections and the probe's");
  h.assertIdle();
});
