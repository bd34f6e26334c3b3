import assert from "node:assert/strict";
import { InstanceSignal } from "./instance_signal.ts";
import type { Schedule } from "../types.ts";
import { createLoadScraper, type ScrapeTarget } from "./scraper.ts";

/** Timers fired by hand. */
function manualTimers() {
  const timers = new Map<number, { fn: () => void; ms: number }>();
  let next = 0;
  const schedule: Schedule = (fn, ms) => {
    const id = next++;
    timers.set(id, { fn, ms });
    return () => timers.delete(id);
  };
  const fire = (ms: number) => {
    for (const [id, t] of [...timers]) {
      if (t.ms === ms) {
        timers.delete(id);
        t.fn();
      }
    }
  };
  return { schedule, fire, timers };
}

/** A fetch answering by URL; "hang" never answers until aborted. */
function fakeFetch(routes: Record<string, () => Response | "hang">): typeof fetch {
  return ((url: string, init?: RequestInit) => {
    const answer = routes[url]?.() ?? new Response("no", { status: 404 });
    if (answer !== "hang") return Promise.resolve(answer);
    return new Promise((_, reject) => {
      init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
  }) as typeof fetch;
}

function target(id: string, source: ScrapeTarget["source"] = "vllm"): ScrapeTarget {
  return {
    id,
    source,
    request: () => ({ url: `http://${id}/metrics`, headers: new Headers() }),
    signal: new InstanceSignal({ clock: () => 0, staleAfterMs: 3000, model: "m" }),
    inFlight: () => 0,
  };
}

Deno.test("scraper: every target in one round; errors are per target and keep their detail", async () => {
  const t = manualTimers();
  const targets = [target("ok"), target("missing"), target("garbage"), target("big"), target("ps", "ollama")];
  const requests: RequestInit[] = [];
  const routes: Record<string, () => Response> = {
    "http://ok/metrics": () => new Response('vllm:num_requests_waiting{model_name="m"} 2\n'),
    "http://garbage/metrics": () => new Response("<html>oops</html>\n"),
    "http://big/metrics": () => new Response("# x\n".repeat(300_000)),
    "http://ps/metrics": () => new Response('{"models":[{"name":"m:latest"}]}'),
  };
  const doFetch =
    ((url: string, init: RequestInit) => (requests.push(init), fakeFetch(routes)(url, init))) as typeof fetch;
  const scraper = createLoadScraper({
    fetch: doFetch,
    clock: () => 0,
    intervalMs: 1000,
    timeoutMs: 500,
    maxBytes: 1024 * 1024,
    targets: () => targets,
    schedule: t.schedule,
  });
  const outcomes = await scraper.runOnce();
  assert.deepEqual(outcomes.map((o) => [o.id, o.result, o.detail]), [
    ["ok", "ok", "HTTP 200"],
    ["missing", "error", "HTTP 404"],
    ["garbage", "error", "no load metrics found"],
    ["big", "error", "body larger than 1048576 bytes"],
    ["ps", "ok", "HTTP 200"],
  ]);
  assert.equal(targets[0].signal.read(0)?.waiting, 2);
  assert.equal(targets[4].signal.read(0)?.resident, true);
  assert.equal(targets[1].signal.read(0), undefined);
  assert.equal(targets[2].signal.status().error, "no load metrics found");
  for (const init of requests) {
    assert.equal(init.method, "GET");
    assert.equal(init.body, undefined, "a scrape sends no body");
    assert.equal(init.redirect, "manual");
  }
  assert.equal(t.timers.size, 0, "every deadline was cancelled");
});

Deno.test("scraper: an engine whose totals overflow fails its scrape; its last good reading stands", async () => {
  const t = manualTimers();
  const engine = target("overflow");
  let body = 'vllm:num_requests_running{engine="0"} 2\n';
  const scraper = createLoadScraper({
    fetch: fakeFetch({ "http://overflow/metrics": () => new Response(body) }),
    clock: () => 0,
    intervalMs: 1000,
    timeoutMs: 500,
    targets: () => [engine],
    schedule: t.schedule,
  });
  assert.equal((await scraper.runOnce())[0].result, "ok");
  body = 'vllm:num_requests_running{engine="0"} 1e308\nvllm:num_requests_running{engine="1"} 1e308\n';
  const [outcome] = await scraper.runOnce();
  assert.deepEqual([outcome.result, outcome.detail], ["error", "running is Infinity, not a finite count"]);
  assert.equal(engine.signal.read(0)?.running, 2);
  assert.equal(engine.signal.status().error, "running is Infinity, not a finite count");
});

Deno.test("scraper: failures carry a fixed reason, and a change of state is marked once, not per scrape", async () => {
  const t = manualTimers();
  const engine = target("flaky");
  const answers: (() => Response | "hang")[] = [
    () => new Response("down", { status: 503 }),
    () => new Response("<html>proxy</html>\n"),
    () => new Response("vllm:num_requests_waiting 1\n"),
    () => new Response("vllm:num_requests_waiting 2\n"),
    () => "hang",
    () => new Response("# x\n".repeat(300_000)),
  ];
  let call = 0;
  const scraper = createLoadScraper({
    fetch: fakeFetch({ "http://flaky/metrics": () => answers[call++]() }),
    clock: () => 0,
    intervalMs: 1000,
    timeoutMs: 500,
    maxBytes: 1024 * 1024,
    targets: () => [engine],
    schedule: t.schedule,
  });
  const seen: unknown[][] = [];
  for (let i = 0; i < answers.length; i++) {
    const pending = scraper.runOnce();
    await new Promise((r) => setTimeout(r, 0));
    if (i === 4) t.fire(500);
    const [o] = await pending;
    seen.push([o.result, o.reason, o.transition]);
  }
  assert.deepEqual(seen, [
    ["error", "status", "failing"],
    ["error", "unreadable", undefined],
    ["ok", undefined, "recovered"],
    ["ok", undefined, undefined],
    ["error", "timeout", "failing"],
    ["error", "too_large", undefined],
  ]);
  const refused = target("refused");
  const network = createLoadScraper({
    fetch: (() => Promise.reject(new TypeError("connection refused"))) as typeof fetch,
    clock: () => 0,
    intervalMs: 1000,
    timeoutMs: 500,
    targets: () => [refused],
    schedule: t.schedule,
  });
  const [o] = await network.runOnce();
  assert.deepEqual([o.reason, o.detail, o.transition], ["network", "connection refused", "failing"]);
});

Deno.test("scraper: a hung target times out alone; it is skipped while busy, and the others go on", async () => {
  const t = manualTimers();
  const hung = target("hung");
  const fine = target("fine");
  let fineCalls = 0;
  const scraper = createLoadScraper({
    fetch: fakeFetch({
      "http://hung/metrics": () => "hang",
      "http://fine/metrics": () => (fineCalls++, new Response("vllm:num_requests_running 1\n")),
    }),
    clock: () => 0,
    intervalMs: 1000,
    timeoutMs: 5000,
    targets: () => [hung, fine],
    schedule: t.schedule,
  });
  const first = scraper.runOnce();
  await new Promise((r) => setTimeout(r, 0));
  const second = await scraper.runOnce();
  assert.deepEqual(second.map((o) => o.result), ["busy", "ok"], "the busy target does not hold the round");
  assert.equal(scraper.skipped, 1);
  assert.equal(fineCalls, 2);
  t.fire(5000);
  const outcomes = await first;
  assert.deepEqual(outcomes.map((o) => [o.result, o.detail]), [["error", "timeout after 5000 ms"], [
    "ok",
    "HTTP 200",
  ]]);
  assert.equal(hung.signal.status().error, "timeout after 5000 ms");
});

Deno.test("scraper: start() ticks at the interval and stop() aborts scrapes in flight without a failure", async () => {
  const t = manualTimers();
  const hung = target("hung");
  let now = 0;
  const scraper = createLoadScraper({
    fetch: fakeFetch({ "http://hung/metrics": () => "hang" }),
    clock: () => now,
    intervalMs: 1000,
    timeoutMs: 5000,
    targets: () => [hung],
    schedule: t.schedule,
  });
  scraper.start();
  assert.ok(scraper.started);
  now = 1000;
  t.fire(1000); // the next tick: still busy
  assert.equal(scraper.skipped, 1);
  await scraper.stop();
  assert.equal(hung.signal.status().error, undefined, "stopping is not the engine's failure");
  assert.equal(t.timers.size, 0);
});

Deno.test("createLoadScraper() validates its options", () => {
  const base = { fetch, clock: () => 0, intervalMs: 1000, timeoutMs: 500, targets: () => [] };
  assert.throws(
    () => createLoadScraper({ ...base, intervalMs: 0 }),
    /"intervalMs" must be a finite number > 0/,
  );
  assert.throws(() => createLoadScraper({ ...base, maxBytes: -1 }), RangeError);
  assert.throws(() => createLoadScraper({ ...base, clock: 1 as unknown as () => number }), TypeError);
});
