// Prober against real loopback HTTP servers (Deno.serve on port 0). Sanitizers stay on: every
// server is shut down, every probe's timer cleared and every response body cancelled, or the test fails.
import assert from "node:assert/strict";
import { createHealthState, type HealthState } from "./health_state.ts";
import { createProber, type ProbeOutcome, type ProberOptions, type ProbeTarget } from "./prober.ts";

interface TestServer {
  readonly url: string;
  /** Resolves every request still held by a hanging handler, then shuts the server down. */
  close(): Promise<void>;
}

function serve(handler: (req: Request, release: Promise<void>) => Response | Promise<Response>): TestServer {
  const { promise: release, resolve } = Promise.withResolvers<void>();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req) => handler(req, release),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      resolve();
      await server.shutdown();
    },
  };
}

/** Answers only when the test ends (close()), long after any probe deadline. */
function hang(onArrive?: () => void) {
  return async (_req: Request, release: Promise<void>) => {
    onArrive?.();
    await release;
    return new Response("late");
  };
}

/** A port that was just listening and is now closed: connecting to it is refused. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function target(id: string, url: string, state?: HealthState): ProbeTarget {
  return {
    id,
    request: () => ({ url, method: "GET", headers: new Headers({ accept: "application/json" }) }),
    state: state ?? createHealthState({ healthyThreshold: 1, unhealthyThreshold: 1, passiveFailures: 1 }),
  };
}

function prober(targets: ProbeTarget[], extra: Partial<ProberOptions> = {}) {
  return createProber({
    fetch,
    clock: () => performance.now(),
    intervalMs: 60_000,
    timeoutMs: 150,
    targets: () => targets,
    ...extra,
  });
}

function byId(outcomes: readonly ProbeOutcome[]): Record<string, ProbeOutcome> {
  return Object.fromEntries(outcomes.map((o) => [o.id, o]));
}

Deno.test("runOnce() judges 200 up, 500 down, a hang as timeout and a closed port as down", async () => {
  const ok = serve(() => new Response("fine"));
  const broken = serve(() => new Response("oops", { status: 500 }));
  const stuck = serve(hang());
  try {
    const targets = [
      target("ok", `${ok.url}/health`),
      target("broken", `${broken.url}/health`),
      target("stuck", `${stuck.url}/health`),
      target("refused", `http://127.0.0.1:${closedPort()}/health`),
    ];
    const outcomes = byId(await prober(targets).runOnce());

    assert.equal(outcomes.ok.result, "up");
    assert.equal(outcomes.ok.status, 200);
    assert.equal(outcomes.broken.result, "down");
    assert.equal(outcomes.broken.detail, "HTTP 500");
    assert.equal(outcomes.stuck.result, "down");
    assert.equal(outcomes.stuck.detail, "timeout after 150 ms");
    assert.equal(outcomes.refused.result, "down");
    assert.equal(outcomes.refused.status, undefined);

    const health = Object.fromEntries(targets.map((t) => [t.id, t.state.healthy]));
    assert.deepEqual(health, { ok: true, broken: false, stuck: false, refused: false });
    assert.match(targets[1].state.snapshot().reason, /HTTP 500/);
  } finally {
    await Promise.all([ok.close(), broken.close(), stuck.close()]);
  }
});

Deno.test("runOnce() by default counts any answer below 500 as up: 401, 302, 404, 405 up; 500 down", async () => {
  const server = serve((req) => {
    const status = Number(new URL(req.url).pathname.slice(1));
    // The redirect leads to a 500: following it would wrongly judge the target down.
    return status === 302
      ? new Response(null, { status, headers: { location: "/500" } })
      : new Response(`status ${status}`, { status });
  });
  try {
    const outcomes = await prober([401, 302, 404, 405, 500].map((s) => target(`s${s}`, `${server.url}/${s}`)))
      .runOnce();
    assert.deepEqual(
      outcomes.map((o) => [o.id.slice(1), o.result, o.status]),
      [["401", "up", 401], ["302", "up", 302], ["404", "up", 404], ["405", "up", 405], ["500", "down", 500]],
    );
  } finally {
    await server.close();
  }
});

Deno.test("runOnce() judges by a target's expect-status and applies its own timeout", async () => {
  const server = serve(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/slow") await new Promise((r) => setTimeout(r, 120));
    return new Response(null, { status: path === "/slow" ? 200 : Number(path.slice(1)) });
  });
  try {
    const t = (id: string, path: string, extra: Partial<ProbeTarget>) => ({
      ...target(id, `${server.url}${path}`),
      ...extra,
    });
    const outcomes = await prober([
      t("404-needs-2xx", "/404", { expect: [[200, 299]] }),
      t("204-needs-2xx", "/204", { expect: [[200, 299]] }),
      t("503-listed", "/503", { expect: [[200, 200], [503, 503]] }),
      t("slow", "/slow", { timeoutMs: 20 }),
    ], { timeoutMs: 5_000 }).runOnce();
    assert.deepEqual(outcomes.map((o) => [o.id, o.result, o.detail]), [
      ["404-needs-2xx", "down", "HTTP 404"],
      ["204-needs-2xx", "up", "HTTP 204"],
      ["503-listed", "up", "HTTP 503"],
      ["slow", "down", "timeout after 20 ms"],
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("runOnce() TCP probes: a listening port is up, a closed port down, through the injected connector", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const dialed: string[] = [];
  const connect = async (a: { hostname: string; port: number }, signal: AbortSignal) => {
    dialed.push(`${a.hostname}:${a.port}`);
    (await Deno.connect({ hostname: a.hostname, port: a.port, signal })).close();
  };
  const open = (listener.addr as Deno.NetAddr).port;
  const closed = closedPort();
  const tcp = (id: string, port: number): ProbeTarget => ({
    ...target(id, "unused"),
    request: () => ({ hostname: "127.0.0.1", port }),
  });
  try {
    const outcomes = await prober([tcp("open", open), tcp("closed", closed)], { connect }).runOnce();
    assert.deepEqual(outcomes.map((o) => [o.id, o.result]), [["open", "up"], ["closed", "down"]]);
    assert.equal(outcomes[0].detail, "TCP connect ok");
    assert.deepEqual(dialed, [`127.0.0.1:${open}`, `127.0.0.1:${closed}`]);
    const none = await prober([tcp("no-connector", open)]).runOnce();
    assert.deepEqual(none.map((o) => [o.result, o.detail]), [["down", "no TCP connector configured"]]);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const c of accepted) c.close();
  }
});

Deno.test("runOnce() TCP probe that does not connect in time is down, and stop() aborts it uncounted", async () => {
  let signalSeen: AbortSignal | undefined;
  // A connector that never connects by itself: only its signal ends it (a black-holed host).
  const connect = (_a: unknown, signal: AbortSignal) =>
    new Promise<void>((_, reject) => {
      signalSeen = signal;
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  const t: ProbeTarget = {
    ...target("blackhole", "unused"),
    request: () => ({ hostname: "10.255.255.1", port: 9 }),
  };
  const [late] = await prober([t], { connect, timeoutMs: 20 }).runOnce();
  assert.deepEqual([late.result, late.detail], ["down", "timeout after 20 ms"]);
  assert.equal(signalSeen?.aborted, true, "the connector was told to give up");
  const before = t.state.snapshot();
  const p = prober([t], { connect, timeoutMs: 5_000 });
  const round = p.runOnce();
  await p.stop();
  const [stopped] = await round;
  assert.equal(stopped.result, "aborted");
  assert.deepEqual(t.state.snapshot(), before, "an aborted probe is no verdict");
});

Deno.test("runOnce() cancels a body that does not end instead of reading it", async () => {
  const bodyCancelled = Promise.withResolvers<"cancelled">();
  const server = serve((_req, release) => {
    // Headers and a first chunk now; the rest only when the test ends. A prober that read the body
    // would time out; one that left it unread would keep the connection busy, never cancelling it.
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start: (ctrl) => ctrl.enqueue(new TextEncoder().encode('{"status":')),
      pull: async (ctrl) => {
        await release;
        if (!cancelled) ctrl.close();
      },
      cancel: () => {
        cancelled = true;
        bodyCancelled.resolve("cancelled");
      },
    });
    return new Response(body);
  });
  try {
    const t = target("endless", `${server.url}/health`);
    const [outcome] = await prober([t], { timeoutMs: 1_000 }).runOnce();
    assert.equal(outcome.result, "up");
    assert.equal(t.state.healthy, true);
    // The client's cancel reaches the server as a closed connection; 2 s only bounds the wait.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<"still open">((r) => timer = setTimeout(() => r("still open"), 2_000));
    assert.equal(await Promise.race([bodyCancelled.promise, bound]), "cancelled");
    clearTimeout(timer);
  } finally {
    await server.close();
  }
});

Deno.test("runOnce() probes all targets concurrently", async () => {
  // The server answers only once three probes are in at the same time; sequential probes would
  // each wait for the others and time out.
  const arrived = Promise.withResolvers<void>();
  let count = 0;
  const server = serve(async () => {
    if (++count === 3) arrived.resolve();
    await arrived.promise;
    return new Response("together");
  });
  try {
    const targets = ["a", "b", "c"].map((id) => target(id, `${server.url}/${id}`));
    const outcomes = await prober(targets, { timeoutMs: 5_000 }).runOnce();
    assert.deepEqual(outcomes.map((o) => o.result), ["up", "up", "up"]);
  } finally {
    arrived.resolve();
    await server.close();
  }
});

Deno.test("runOnce() sends the probe's method, headers and body", async () => {
  let seen: [string, string | null, string] | undefined;
  const server = serve(async (req) => {
    seen = [req.method, req.headers.get("authorization"), await req.text()];
    return new Response("{}", { headers: { "content-type": "application/json" } });
  });
  try {
    const t: ProbeTarget = {
      ...target("post", server.url),
      request: () => ({
        url: `${server.url}/v1/embeddings`,
        method: "POST",
        headers: new Headers({ authorization: "Bearer k", "content-type": "application/json" }),
        body: '{"input":"ping"}',
      }),
    };
    const [outcome] = await prober([t]).runOnce();
    assert.equal(outcome.result, "up");
    assert.deepEqual(seen, ["POST", "Bearer k", '{"input":"ping"}']);
  } finally {
    await server.close();
  }
});

Deno.test("stop() aborts probes in flight without counting them against the instance", async () => {
  const arrived = Promise.withResolvers<void>();
  const server = serve(hang(() => arrived.resolve()));
  const outcomes: ProbeOutcome[] = [];
  try {
    const t = target("stuck", `${server.url}/health`);
    // A long timeout: only stop() can end this probe before the test's own release.
    const p = prober([t], { timeoutMs: 30_000, onProbe: (o) => outcomes.push(o) });
    p.start();
    assert.equal(p.started, true);
    await arrived.promise;
    await p.stop();
    assert.equal(p.started, false);
    assert.deepEqual(outcomes.map((o) => [o.id, o.result, o.detail]), [[
      "stuck",
      "aborted",
      "prober stopped",
    ]]);
    assert.equal(t.state.healthy, true);
    assert.equal(t.state.snapshot().probeFailures, 0);
  } finally {
    await server.close();
  }
});

Deno.test("a dead instance recovers once its server answers for healthyThreshold rounds", async () => {
  let status = 503;
  const server = serve(() => new Response(null, { status }));
  try {
    const state = createHealthState({ healthyThreshold: 2, unhealthyThreshold: 2, passiveFailures: 3 });
    const p = prober([target("flaky", `${server.url}/health`, state)]);
    await p.runOnce();
    assert.equal(state.healthy, true, "one failure is below unhealthyThreshold 2");
    await p.runOnce();
    assert.equal(state.healthy, false);
    status = 200;
    await p.runOnce();
    assert.equal(state.healthy, false);
    await p.runOnce();
    assert.equal(state.healthy, true);
  } finally {
    await server.close();
  }
});
