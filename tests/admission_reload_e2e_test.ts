/**
 * The admission queue across reloads and fallbacks, through real sockets: a real gateway (a
 * `main.ts` process watching its config file, or the gateway served on a real port), fake
 * upstreams on loopback and plain HTTP clients. The in-process cases in
 * `src/proxy/admission_test.ts` cover the same fixes with injected fakes; these see them as a
 * client does.
 */

import assert from "node:assert/strict";
import { startFakeEngine } from "./fakes/fake_engine.ts";
import { type ChatRequest, eventually, postChat, startGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { spawnGateway } from "./fakes/process.ts";
import { parseConfig } from "../src/config/load.ts";

/** How long a waiter may take once the slot it waits for is free (each is answered in ms). */
const PATIENCE_MS = 5000;

/** `dairouter_queue_depth{service="chat"}` as the gateway at `url` exports it. */
async function queueDepth(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^dairouter_queue_depth\{service="chat"\} (\d+)$/m.exec(text)?.[1] ?? NaN);
}

/** Polls `read` until it returns true (bounded), for checks that need a request to answer. */
async function until(read: () => Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Clients of the gateway at `url`, sharing one deadline: `settle` reads every answer to its end,
 * or fails naming those still unanswered `PATIENCE_MS` after it was called (a hung client fails
 * the test instead of hanging it); `close` aborts the rest and closes every body.
 */
function clients(url: string) {
  const patience = new AbortController();
  const sent: Promise<Response>[] = [];
  return {
    send(request: Omit<ChatRequest, "signal"> = {}): Promise<Response> {
      const res = postChat(url, { ...request, signal: patience.signal });
      sent.push(res);
      return res;
    },
    async settle(pending: Promise<Response>[]): Promise<{ status: number; body: string }[]> {
      const timer = setTimeout(() => patience.abort(), PATIENCE_MS);
      try {
        const settled = await Promise.allSettled(
          pending.map(async (p) => {
            const res = await p;
            return { status: res.status, body: await res.text() };
          }),
        );
        const hung = settled.flatMap((s, i) => s.status === "rejected" ? [i] : []);
        assert.deepEqual(hung, [], `clients ${hung} got no answer within ${PATIENCE_MS} ms`);
        return settled.map((s) => (s as PromiseFulfilledResult<{ status: number; body: string }>).value);
      } finally {
        clearTimeout(timer);
      }
    },
    async close(): Promise<void> {
      patience.abort();
      await Promise.allSettled(sent.map(async (p) => await (await p).body?.cancel()));
    },
  };
}

/** A 200 chat completion, or a 503/429 in OpenAI's error shape. */
function assertAnswer(a: { status: number; body: string }, i: number): void {
  const json = JSON.parse(a.body);
  if (a.status === 200) return void assert.equal(json.object, "chat.completion", `client ${i}`);
  assert.ok(a.status === 503 || a.status === 429, `client ${i}: ${a.status} ${a.body}`);
  assert.equal(typeof json.error?.message, "string", `client ${i}: ${a.body}`);
  assert.equal(typeof json.error?.type, "string", `client ${i}: ${a.body}`);
}

/** One instance of `m` with room for one request, and the admission queue `queue`. */
const oneSlot = (queue: string) => (url: string) => `
log: { level: info, format: json }
server: { drain-delay: 0, shutdown-timeout: 1000 }
model:
  services:
    chat:
      health-check: { enabled: false }
      queue: ${queue}
      instances:
        - { name: m, base-url: "${url}", max-concurrency: 1 }
`;

/**
 * Three requests wait behind a stream holding the one slot; the watched file is rewritten with
 * `queue`; then the stream ends. Every waiter must get an answer (before the fix in fccbbe1, a
 * waiter the reload's drain offered a full instance was put back through the budget check, which
 * refused it: it was in no queue any more and its client hung), and a fresh request is served.
 */
async function drainAfterShrink(queue: string): Promise<void> {
  // The holder's stream would last 300 × 100 ms: it ends when its client cancels it.
  const up = startFakeUpstream({ name: "A", streamChunks: 300, chunkDelayMs: 100 });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-queue-reload-" });
  const file = `${dir}/config.yaml`;
  await Deno.writeTextFile(file, oneSlot("{ max-size: 10, max-wait: 20s }")(up.url));
  const gw = await spawnGateway(["--config", file]);
  const client = clients(gw.url);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    const holder = await postChat(gw.url, { body: { stream: true } });
    assert.equal(holder.status, 200);
    reader = holder.body!.getReader();
    await reader.read();
    const waiting = [1, 2, 3].map(() => client.send());
    await until(async () => (await queueDepth(gw.url)) === 3, "three requests queued");

    await Deno.writeTextFile(file, oneSlot(queue)(up.url));
    await gw.waitFor(/"msg":"configuration applied"/, 10_000);
    const afterReload = await queueDepth(gw.url);

    await reader.cancel(); // the slot frees
    const got = await client.settle(waiting);
    got.forEach(assertAnswer);
    assert.equal(afterReload, 3, "those waiting at the reload still waited after it");
    assert.deepEqual(got.map((a) => a.status), [200, 200, 200], "each served in turn on the freed slot");
    assert.equal(up.requests.length, 4);

    const fresh = await postChat(gw.url);
    assert.equal(fresh.status, 200, "the gateway still serves");
    await fresh.body?.cancel();
    assert.equal(await queueDepth(gw.url), 0);
  } finally {
    await reader?.cancel();
    await client.close();
    gw.kill("SIGTERM");
    await gw.exited;
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("queue reload: turning the queue off while three wait drops none of them; each is served", async () => {
  await drainAfterShrink("{ enabled: false }");
});

Deno.test("queue reload: shrinking the queue below those waiting drops none of them; each is served", async () => {
  await drainAfterShrink("{ max-size: 1, max-wait: 20s }");
});

Deno.test("queue fallback: waiters moving to a fallback model together never exceed its max-concurrency", async () => {
  // A holds the first request until told, then fails it: its breaker opens (threshold 1), and
  // the three queued behind it move on to m2 at once.
  const failA = Promise.withResolvers<void>();
  const a = startFakeUpstream({ name: "A" });
  a.fault = { kind: "status", status: 500, after: failA.promise };
  const b = startFakeEngine({ model: "m2", decodeMsPerToken: 20 }); // ~100 ms an answer
  const gw = startGateway(`
model:
  fallbacks: { m: [m2] }
  services:
    chat:
      health-check: { enabled: false }
      circuit-breaker: { failure-threshold: 1, timeout: 60000 }
      queue: { max-size: 10, max-wait: 20s }
      instances:
        - { name: m, base-url: "${a.url}", max-concurrency: 1 }
        - { name: m2, base-url: "${b.url}", max-concurrency: 1 }
`);
  const depth = () => gw.gateway.state.budgets.get("chat")!.depth;
  const client = clients(gw.url);
  try {
    const ask = () => client.send({ body: { max_tokens: 5 } });
    const first = ask();
    await eventually(() => a.requests.length === 1, "the first request held at A");
    const waiting = [1, 2, 3].map(ask);
    await eventually(() => depth() === 3, "three queued for m's one slot");
    failA.resolve();
    const got = await client.settle([first, ...waiting]);
    got.forEach(assertAnswer);
    assert.deepEqual(got.map((r) => r.status), [200, 200, 200, 200]);
    assert.ok(got.every((r) => JSON.parse(r.body).model === "m2"), "all served by the fallback");
    assert.equal(a.requests.length, 1, "A's open breaker kept everyone else away");
    assert.equal(b.requests, 4);
    assert.equal(b.peakActive, 1, "m2's max-concurrency held at its engine");
    await eventually(() => gw.gateway.inFlight() === 0, "every slot released");
  } finally {
    failA.resolve();
    await client.close();
    await gw.close();
    await a.close();
    await b.close();
  }
});

Deno.test("queue reload: a retry after a reload is governed by the new max-concurrency", async () => {
  const yaml = (max: number) => `
model:
  services:
    chat:
      load-balance: { type: round-robin }
      health-check: { enabled: false }
      retry: { max-attempts: 2 }
      queue: { max-size: 10, max-wait: 20s }
      instances:
        - { name: m, base-url: "${a.url}", max-concurrency: ${max} }
        - { name: m, base-url: "${b.url}", max-concurrency: ${max} }
`;
  const failA = Promise.withResolvers<void>();
  const a = startFakeUpstream({ name: "A" });
  a.fault = { kind: "status", status: 500, after: failA.promise };
  // B's stream would last 300 × 100 ms: it ends when its client cancels it.
  const b = startFakeUpstream({ name: "B", streamChunks: 300, chunkDelayMs: 100 });
  const gw = startGateway(yaml(2));
  const depth = () => gw.gateway.state.budgets.get("chat")!.depth;
  const client = clients(gw.url);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    const retried = client.send();
    await eventually(() => a.requests.length === 1, "the first attempt held at A");
    const holder = await postChat(gw.url, { body: { stream: true } });
    assert.equal(b.requests.length, 1, "the stream went to B (round robin)");
    reader = holder.body!.getReader();
    await reader.read();

    // max-concurrency 1: B is now full. Then A fails the first attempt and it is retried.
    gw.gateway.reload(parseConfig(yaml(1), { source: "reload.yaml", env: {} }).config);
    failA.resolve();
    await eventually(() => depth() === 1 || b.requests.length > 1, "the retry waits or goes to B");
    assert.equal(b.requests.length, 1, "the retry did not join the stream at B past the new limit");
    assert.equal(b.openStreams, 1);
    assert.equal(depth(), 1, "it waits for B's one slot");

    await reader.cancel(); // B's slot frees: the retry takes it
    const [got] = await client.settle([retried]);
    assert.equal(got.status, 200);
    assert.match(JSON.parse(got.body).choices[0].message.content, /^B: /);
    assert.equal(b.requests.length, 2);
    await eventually(() => gw.gateway.inFlight() === 0, "every slot released");
  } finally {
    failA.resolve();
    await reader?.cancel();
    await client.close();
    await gw.close();
    await a.close();
    await b.close();
  }
});
