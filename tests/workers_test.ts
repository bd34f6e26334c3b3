/**
 * `server.workers: 2` through the real `main.ts` process: every request is served over many
 * connections, limits are not doubled, one `/metrics` counts every worker's requests, SIGHUP
 * reloads both workers, SIGTERM drains both, and the log is one stream. A worker that fails
 * (`fakes/failing_gateway.ts` makes one fail on purpose) is replaced without cutting the other's
 * requests, and one gone without a word holds neither `/metrics` nor SIGTERM.
 */

import assert from "node:assert/strict";
import { type FakeUpstream, startFakeUpstream } from "./fakes/openai_upstream.ts";
import { type GatewayProcess, spawnGateway } from "./fakes/process.ts";
import { waitForCount } from "./fakes/replicas.ts";
import { peakRssMb } from "./bench/proc_stats.ts";

const yaml = (upstream: string, models: string[], extra = "") => `
log: { level: info, format: json }
server: { workers: 2, drain-delay: 0, shutdown-timeout: 5000 }
model:
  health-check: { enabled: false }
  services:
    chat:
${extra}
      instances:
${models.map((m) => `        - { name: ${m}, base-url: "${upstream}" }`).join("\n")}
`;

/** Posts on a fresh connection each time, so the kernel spreads requests over both workers. */
async function chatFresh(url: string, model = "m"): Promise<number> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      client,
      headers: { "content-type": "application/json", connection: "close" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
    await res.body?.cancel();
    return res.status;
  } finally {
    client.close();
  }
}

/** `/metrics` on a fresh connection, so the kernel may hand it to either worker. */
async function scrapeFresh(url: string): Promise<string> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    return await (await fetch(`${url}/metrics`, { client })).text();
  } finally {
    client.close();
  }
}

function requestsTotal(text: string): number {
  let sum = 0;
  for (const m of text.matchAll(/^dairouter_requests_total\{[^}]*\} (\d+)$/gm)) sum += Number(m[1]);
  return sum;
}

Deno.test("workers: 2 — every request served, one /metrics view, limits not doubled, SIGHUP reloads both, SIGTERM drains both", async () => {
  const up = startFakeUpstream({ name: "A" });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-workers-" });
  const file = `${dir}/c.yaml`;
  await Deno.writeTextFile(file, yaml(up.url, ["m"]));
  const gw = await spawnGateway(["--config", file, "--no-watch"]);
  try {
    assert.match(gw.lines.find((l) => l.includes('"msg":"listening"'))!, /"workers":2/);
    const statuses = await Promise.all(Array.from({ length: 40 }, () => chatFresh(gw.url)));
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
    // Whichever worker is scraped, it reports the host: all 40 requests.
    for (let i = 0; i < 4; i++) {
      const text = await scrapeFresh(gw.url);
      assert.equal(requestsTotal(text), 40);
      // The request histograms (our own metric objects) aggregate across workers too.
      assert.match(text, /^dairouter_request_duration_seconds_count\{service="chat",model="m"\} 40$/m);
      assert.match(
        text,
        /^dairouter_request_duration_seconds_bucket\{le="\+Inf",service="chat",model="m"\} 40$/m,
      );
      // Process-wide gauges are the process's once, not once per worker.
      const rss = Number(/^process_resident_memory_bytes (\d+)$/m.exec(text)?.[1]);
      const peak = (await peakRssMb(gw.pid))! * 1024 * 1024;
      // Deno's reading and the kernel's peak differ by a few pages; counted per worker it would be ~2×.
      assert.ok(rss > 0 && rss < peak * 1.25, `RSS ${rss} within the process's peak ${peak}`);
      assert.match(text, /^dairouter_event_loop_lag_seconds [\d.e-]+$/m);
    }

    // SIGHUP: a new model and a service limit of 10 (negligible refill) on both workers.
    const limit = "      rate-limit: { algorithm: token-bucket, capacity: 10, rate: 0.001 }";
    await Deno.writeTextFile(file, yaml(up.url, ["m", "m2"], limit));
    gw.kill("SIGHUP");
    await bothApplied(gw);
    const after = await Promise.all(Array.from({ length: 30 }, () => chatFresh(gw.url, "m2")));
    const admitted = after.filter((s) => s === 200).length;
    assert.deepEqual(after.filter((s) => s !== 200 && s !== 429), [], "m2 is known to both workers");
    // Each worker enforces half of the limit: the host admits at most 10, never 20.
    assert.ok(admitted <= 10 && admitted >= 5, `admitted ${admitted}`);

    gw.kill("SIGTERM");
    assert.equal(await gw.exited, 0);
    assert.equal(gw.lines.filter((l) => l.includes('"msg":"draining"')).length, 2, "both workers drained");
    assert.ok(gw.lines.some((l) => l.includes('"msg":"stopped"') && l.includes('"workers":2')));
    for (const line of gw.lines) assert.doesNotThrow(() => JSON.parse(line), `one JSON line each: ${line}`);
    const access = gw.lines.filter((l) => l.includes('"msg":"access"'));
    assert.equal(access.length, 70, "one access line per request, in one stream");
  } finally {
    try {
      gw.kill("SIGKILL");
    } catch { /* exited */ }
    await gw.exited;
    await up.close();
  }
});

Deno.test("workers: 2 — POST /admin/reload re-reads the file on both workers", async () => {
  const up = startFakeUpstream({ name: "A" });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-workers-" });
  const file = `${dir}/c.yaml`;
  const admin = "admin: { token: workers-admin-token-0123456789abc }\n";
  await Deno.writeTextFile(file, admin + yaml(up.url, ["m"]));
  const gw = await spawnGateway(["--config", file, "--no-watch"]);
  try {
    await Deno.writeTextFile(file, admin + yaml(up.url, ["m", "m2"]));
    const res = await fetch(`${gw.url}/admin/reload`, {
      method: "POST",
      headers: { authorization: "Bearer workers-admin-token-0123456789abc" },
    });
    assert.equal(res.status, 200, await res.text());
    // The worker that took the request applied the file, then the supervisor handed it to both
    // (the one already on it skips an unchanged config).
    await bothApplied(gw);
    const statuses = await Promise.all(Array.from({ length: 16 }, () => chatFresh(gw.url, "m2")));
    assert.deepEqual(statuses.filter((s) => s !== 200), [], "m2 is known to both workers");
  } finally {
    gw.kill("SIGTERM");
    await gw.exited;
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** GETs `path` on a fresh connection (so either worker may answer). */
async function getFresh(url: string, path: string): Promise<unknown> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    return await (await fetch(`${url}${path}`, { client, headers: { connection: "close" } })).json();
  } finally {
    client.close();
  }
}

/** Runs `fn` against a `workers: 2` gateway (no Redis) in front of an upstream failing with 500. */
async function withFailingWorkers(
  extra: string,
  fn: (gw: GatewayProcess, up: FakeUpstream) => Promise<void>,
): Promise<void> {
  const up = startFakeUpstream({ name: "A" });
  up.fault = { kind: "status", status: 500 };
  const dir = await Deno.makeTempDir({ prefix: "dairouter-workers-" });
  const file = `${dir}/c.yaml`;
  await Deno.writeTextFile(file, yaml(up.url, ["m"], `${extra}\n      retry: { max-attempts: 1 }`));
  const gw = await spawnGateway(["--config", file, "--no-watch"]);
  try {
    await fn(gw, up);
  } finally {
    gw.kill("SIGTERM");
    await gw.exited;
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * 16 requests one after the other on fresh connections (either worker may take each), 30 ms
 * apart: time for one worker's news to reach the other.
 */
async function spacedChats(url: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 16; i++) {
    statuses.push(await chatFresh(url));
    await new Promise((r) => setTimeout(r, 30));
  }
  return statuses;
}

Deno.test("workers: 2 without Redis — a breaker opened by one worker rejects on the other; half-open trials run once for the host", async () => {
  const breaker = "      circuit-breaker: { failure-threshold: 2, timeout: 2s, success-threshold: 1, " +
    "half-open-max-calls: 1 }";
  await withFailingWorkers(breaker, async (gw, up) => {
    // Alone, each worker lets two failures through before its own breaker opens (4 in all);
    // shared, the first breaker to open holds the other open: 2 or 3 failures, never 4.
    const t0 = performance.now();
    const statuses = await spacedChats(gw.url);
    const failures = up.requests.length;
    assert.ok(failures <= 3, `failures that reached the instance: ${statuses.join(",")}`);
    assert.deepEqual(statuses.slice(3).filter((s) => s !== 503), []);
    for (let i = 0; i < 8; i++) {
      const status = await getFresh(gw.url, "/v1/chat/status") as { instances: { breaker: string }[] };
      assert.equal(status.instances[0].breaker, "open", "both workers report it open");
    }
    // After the open period (2 s) one trial runs for the host, however the burst spreads.
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 2300 - performance.now())));
    up.fault = { kind: "delay", ms: 400 };
    const burst = await Promise.all(Array.from({ length: 10 }, () => chatFresh(gw.url)));
    assert.equal(up.requests.length - failures, 1, `one trial call (${burst.join(",")})`);
  });
});

Deno.test("workers: 2 without Redis — an instance ejected by one worker's passive health check is ejected on the other", async () => {
  const health = "      health-check: { enabled: true, interval: 60s, passive-failures: 2 }\n" +
    "      circuit-breaker: { failure-threshold: 100 }";
  await withFailingWorkers(health, async (gw, up) => {
    const statuses = await spacedChats(gw.url);
    const chats = up.requests.filter((r) => r.path === "/v1/chat/completions").length;
    assert.ok(chats <= 3, `failures that reached the instance: ${statuses.join(",")}`);
    for (let i = 0; i < 8; i++) {
      const status = await getFresh(gw.url, "/v1/chat/status") as { instances: { healthy: boolean }[] };
      assert.equal(status.instances[0].healthy, false, "both workers report it ejected");
    }
  });
});

/** Waits until the supervisor handed a reload to every worker and both applied it (5 s at most). */
async function bothApplied(gw: GatewayProcess): Promise<void> {
  await gw.waitFor(/configuration handed to every worker/);
  const applied = /"msg":"configuration applied"/;
  await waitForCount(gw, applied, 2, 5000);
  assert.equal(gw.lines.filter((l) => applied.test(l)).length, 2, "each worker applied it once");
}

/** Runs `fn` against a `workers: 2` gateway whose worker 1 fails when told (`fakes/failing_worker.ts`). */
async function withFailingWorker(
  server: string,
  fn: (
    gw: GatewayProcess,
    up: FakeUpstream,
    fail: (order: "throw" | "close" | "hang" | "stall") => Promise<void>,
  ) => Promise<void>,
): Promise<void> {
  const up = startFakeUpstream({ name: "A" });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-workers-" });
  const file = `${dir}/c.yaml`;
  const order = `${dir}/fail`;
  await Deno.writeTextFile(
    file,
    yaml(up.url, ["m"]).replace(/^server: .*$/m, `server: { workers: 2, ${server} }`),
  );
  const gw = await spawnGateway(["--config", file, "--no-watch"], { DAIROUTER_TEST_FAIL_FILE: order }, {
    entry: new URL("./fakes/failing_gateway.ts", import.meta.url).pathname,
  });
  /** Tells worker 1 to fail; resolves once it has taken the order. */
  const fail = async (what: "throw" | "close" | "hang" | "stall") => {
    await Deno.writeTextFile(order, what);
    while (await Deno.stat(order).then(() => true, () => false)) await new Promise((r) => setTimeout(r, 20));
  };
  try {
    await fn(gw, up, fail);
  } finally {
    try {
      gw.kill("SIGKILL");
    } catch { /* exited */ }
    await gw.exited;
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A chat's status, or "cut" when its connection ended without an answer. */
const chatOrCut = (url: string) => chatFresh(url).catch(() => "cut" as const);

Deno.test("workers: 2 — a worker's uncaught error is logged and the worker replaced; the other worker's requests finish, and /metrics and SIGTERM still answer", async () => {
  await withFailingWorker("drain-delay: 0, shutdown-timeout: 5000", async (gw, up, fail) => {
    up.fault = { kind: "delay", ms: 1500 };
    // 12 requests on fresh connections: the kernel gives each worker some (all to one: 1 in 2048).
    const chats = Array.from({ length: 12 }, () => chatOrCut(gw.url));
    while (up.requests.length < 12) await new Promise((r) => setTimeout(r, 20));
    await fail("throw");
    const failed = JSON.parse(
      await gw.waitFor(/"msg":"worker failed; starting a fresh one","event":"worker","worker":1,/, 5000),
    );
    assert.match(failed.error, /worker failed on purpose \(test\)/);
    assert.equal(failed.restartInMs, 500);
    const statuses = await Promise.all(chats);
    const served = statuses.filter((s) => s === 200).length;
    assert.deepEqual(statuses.filter((s) => s !== 200 && s !== "cut"), []);
    assert.ok(served > 0, `worker 2's requests finish while worker 1 fails: ${statuses.join(",")}`);

    await gw.waitFor(/"msg":"worker restarted","event":"worker","worker":1\b/, 5000);
    up.fault = { kind: "none" };
    const after = await Promise.all(Array.from({ length: 20 }, () => chatFresh(gw.url)));
    assert.deepEqual(after.filter((s) => s !== 200), [], "both workers serve again");
    const res = await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(5000) });
    assert.match(await res.text(), /^dairouter_requests_total\{/m);
    gw.kill("SIGTERM");
    assert.equal(await gw.exited, 0);
    assert.equal(gw.lines.filter((l) => l.includes('"msg":"draining"')).length, 2, "both workers drained");
  });
});

Deno.test("workers: 2 — a replaced worker's requests stay counted in /metrics: the counters never go down", async () => {
  await withFailingWorker("drain-delay: 0, shutdown-timeout: 2000", async (gw, _up, fail) => {
    const scrape = async () => requestsTotal(await scrapeFresh(gw.url));
    const statuses = await Promise.all(Array.from({ length: 20 }, () => chatFresh(gw.url)));
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
    assert.equal(await scrape(), 20);
    await fail("throw");
    await gw.waitFor(/"msg":"worker restarted","event":"worker","worker":1\b/, 5000);
    assert.equal(await scrape(), 20, "worker 1's share is still counted after its replacement");
    await chatFresh(gw.url);
    assert.equal(await scrape(), 21);
    gw.kill("SIGTERM");
    assert.equal(await gw.exited, 0);
  });
});

Deno.test("workers: 2 — a worker gone without a word: /metrics answers with the other's within the scrape deadline; SIGTERM exits by the shutdown deadline", async () => {
  // The heartbeat is off: this is about the scrape and drain deadlines, not about finding the worker.
  await withFailingWorker(
    "drain-delay: 0, shutdown-timeout: 1000, worker-stall-timeout: 0",
    async (gw, _up, fail) => {
      await fail("close");
      await new Promise((r) => setTimeout(r, 100)); // its listener closes with it
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now();
        const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
        const res = await fetch(`${gw.url}/metrics`, { client, signal: AbortSignal.timeout(6000) });
        assert.equal(res.status, 200);
        assert.match(await res.text(), /^dairouter_requests_total|^# HELP/m);
        client.close();
        assert.ok(performance.now() - t0 < 4000, `answered in ${Math.round(performance.now() - t0)} ms`);
      }
      assert.match(await gw.waitFor(/"msg":"metrics answered without workers/), /"workers":\[1\]/);
      const t0 = performance.now();
      gw.kill("SIGTERM");
      // drain-delay 0 + shutdown-timeout 1 s + the 2 s margin, and the process's own exit.
      const code = await Promise.race([
        gw.exited,
        new Promise((r) => setTimeout(() => r("still running"), 8000)),
      ]);
      assert.equal(code, 0, `${Math.round(performance.now() - t0)} ms after SIGTERM`);
      assert.match(await gw.waitFor(/"msg":"workers did not stop by the deadline/), /"workers":\[1\]/);
    },
  );
});

Deno.test("workers: 2 — a worker whose event loop was blocked for 1.5 s shows it in /metrics, whichever worker is scraped", async () => {
  await withFailingWorker("drain-delay: 0, shutdown-timeout: 2000", async (gw, _up, fail) => {
    const lag = async () =>
      Number(/^dairouter_event_loop_lag_seconds (\S+)$/m.exec(await scrapeFresh(gw.url))?.[1]);
    // Before: nothing near the stall (a busy CI machine may delay a timer, not by a second).
    assert.ok((await lag()) < 1, "before: no long block");
    await fail("stall");
    await new Promise((r) => setTimeout(r, 1700));
    for (let i = 0; i < 3; i++) {
      const seconds = await lag();
      assert.ok(seconds >= 1.3 && seconds < 8, `lag ${seconds} s`);
    }
    gw.kill("SIGTERM");
    assert.equal(await gw.exited, 0);
  });
});

Deno.test("workers: 2 — a worker whose event loop blocks is found by the heartbeat; the gateway drains the other and exits 1 for its service manager", async () => {
  await withFailingWorker(
    "drain-delay: 0, shutdown-timeout: 2000, worker-stall-timeout: 1s",
    async (gw, up, fail) => {
      up.fault = { kind: "delay", ms: 600 };
      await fail("hang");
      const t0 = performance.now();
      // Requests already with worker 2 finish while it drains (fresh connections: some may reach
      // worker 1's listener, which nobody answers any more: they are not awaited).
      const line = JSON.parse(await gw.waitFor(/"msg":"worker stopped answering/, 5000));
      assert.equal(line.worker, 1);
      assert.match(line.error, /^no answer for \d+ ms \(its event loop is blocked, or it ended\)$/);
      const code = await Promise.race([
        gw.exited,
        new Promise((r) => setTimeout(() => r("still running"), 8000)),
      ]);
      assert.equal(code, 1, `${Math.round(performance.now() - t0)} ms after the stall`);
      assert.ok(
        gw.lines.some((l) =>
          /"msg":"draining every worker","event":"stop","signal":"worker stalled"/.test(l)
        ),
      );
      assert.equal(
        gw.lines.filter((l) => l.includes('"msg":"draining"')).length,
        1,
        "worker 2 drained",
      );
      assert.ok(
        !gw.lines.some((l) => l.includes('"msg":"worker restarted"')),
        "no worker started in its place",
      );
    },
  );
});
