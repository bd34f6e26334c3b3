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

Deno.test("runOnce() applies the status rule: 401 and 302 up, 404 and 405 down", async () => {
  const server = serve((req) => {
    const status = Number(new URL(req.url).pathname.slice(1));
    // The redirect leads to a 500: following it would wrongly judge the target down.
    return status === 302
      ? new Response(null, { status, headers: { location: "/500" } })
      : new Response(`status ${status}`, { status });
  });
  try {
    const outcomes = await prober([401, 302, 404, 405].map((s) => target(`s${s}`, `${server.url}/${s}`)))
      .runOnce();
    assert.deepEqual(
      outcomes.map((o) => [o.id.slice(1), o.result, o.status]),
      [["401", "up", 401], ["302", "up", 302], ["404", "down", 404], ["405", "down", 405]],
    );
  } finally {
    await server.close();
  }
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
