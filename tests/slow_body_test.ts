/**
 * Slow and greedy clients through real sockets: raw `Deno.connect` clients that stop half-way
 * through a body are answered 408 within `server.body-idle-timeout` and their connection closed,
 * a client that drips is cut at `server.body-timeout`, bodies in reception past
 * `server.max-pending-body-bytes` are refused with 503 + Retry-After — and other clients are served
 * all the while. Deadlines are small through the config.
 */

import assert from "node:assert/strict";
import { eventually, type TestGateway, withGateway } from "./fakes/gateway.ts";
import { RawClient } from "./fakes/raw_client.ts";
import type { FakeUpstream } from "./fakes/openai_upstream.ts";

const head = (gw: TestGateway, headers: string) =>
  `POST /v1/embeddings HTTP/1.1\r\nHost: ${
    new URL(gw.url).host
  }\r\nContent-Type: application/json\r\n${headers}\r\n`;

const embed = (gw: TestGateway) =>
  fetch(`${gw.url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "e", input: "x" }),
  }).then(async (r) => (await r.arrayBuffer(), r.status));

const withServer = (
  server: string,
  fn: (gw: TestGateway, up: FakeUpstream) => Promise<void>,
  extra = "",
) =>
  withGateway((upstream) => `
server:
${server}
model:
  health-check: { enabled: false }
  services:
    embedding:
      instances:
        - { name: e, base-url: "${upstream}" }
${extra}`, fn);

const pendingGauge = async (gw: TestGateway) => {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return Number(/^dairouter_pending_body_bytes (\S+)$/m.exec(text)?.[1]);
};

/** Polls the pending-bytes gauge until it reads `value` (bounded): releases land asynchronously. */
async function gaugeReaches(gw: TestGateway, value: number): Promise<void> {
  const until = performance.now() + 3000;
  let last = NaN;
  while ((last = await pendingGauge(gw)) !== value) {
    if (performance.now() > until) assert.fail(`pending body bytes stay at ${last}, expected ${value}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("a body that stalls (sized small, sized large, chunked) is answered 408 within the idle deadline; others are served meanwhile", async () => {
  await withServer("  body-idle-timeout: 300ms\n  body-timeout: 10s", async (gw, up) => {
    const small = await RawClient.open(gw.url);
    await small.write(head(gw, "Content-Length: 100\r\n") + '{"model":"e",');
    const large = await RawClient.open(gw.url);
    await large.write(head(gw, "Content-Length: 200000\r\n") + '{"model":"e","input":"' + "x".repeat(70_000));
    const chunked = await RawClient.open(gw.url);
    await chunked.write(head(gw, "Transfer-Encoding: chunked\r\n") + 'd\r\n{"model":"e",\r\n');
    for (let i = 0; i < 5; i++) assert.equal(await embed(gw), 200, "other clients are served");
    for (const [name, c] of [["small", small], ["large", large], ["chunked", chunked]] as const) {
      const ms = await c.answered();
      assert.equal(c.status, 408, `${name}: ${c.received.slice(0, 80)}`);
      await eventually(() => c.received.includes('"code":"request_timeout"'), "the 408 body");
      assert.ok(ms >= 250 && ms < 3000, `${name} answered after ${Math.round(ms)} ms`);
      c.close();
    }
    assert.equal(up.requests.length, 5, "no stalled body went upstream");
    // The sized small one stays reserved until its read settles: here, when its client closes.
    await gaugeReaches(gw, 0);
    const access = gw.logs.map((l) => JSON.parse(l)).filter((l) => l.status === 408);
    assert.equal(access.length, 3, "each 408 has its access-log line");
  });
});

Deno.test("a client that keeps dripping its body is cut at the total body deadline", async () => {
  await withServer("  body-idle-timeout: 400ms\n  body-timeout: 900ms", async (gw) => {
    const c = await RawClient.open(gw.url);
    await c.write(head(gw, "Transfer-Encoding: chunked\r\n"));
    let dripping = true;
    const drip = (async () => {
      while (dripping && c.status === undefined) {
        await c.write("1\r\n \r\n").catch(() => (dripping = false));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const ms = await c.answered();
    dripping = false;
    await drip;
    assert.equal(c.status, 408);
    await eventually(() => c.received.includes("did not arrive within 900 ms"), "the 408 body");
    assert.ok(ms >= 800 && ms < 3000, `cut after ${Math.round(ms)} ms`);
    c.close();
  });
});

Deno.test("bodies in reception past max-pending-body-bytes are refused with 503 + Retry-After, not buffered", async () => {
  await withServer(
    "  body-limit: 100kb\n  max-pending-body-bytes: 200kb\n  body-idle-timeout: 600ms\n  body-timeout: 10s",
    async (gw, up) => {
      // Two stalled uploads hold 2 × 90 kB of the 200 kB.
      const holders = await Promise.all([0, 1].map(() => RawClient.open(gw.url)));
      for (const h of holders) await h.write(head(gw, "Content-Length: 90000\r\n") + '{"model":"e",');
      await gaugeReaches(gw, 180_000);
      // A third sized upload and a chunked one that grows past the cap are refused at once.
      const refused = await fetch(`${gw.url}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "e", input: "y".repeat(30_000) }),
      });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get("retry-after"), "1");
      assert.equal((await refused.json()).error.code, "server_busy");
      const chunked = await RawClient.open(gw.url);
      await chunked.write(head(gw, "Transfer-Encoding: chunked\r\n"));
      await chunked.write(`7530\r\n${'{"model":"e","input":"'.padEnd(30_000, "z")}\r\n`);
      await chunked.answered();
      assert.equal(chunked.status, 503);
      chunked.close();
      // Small bodies still fit, and once the stalled uploads time out everything is released.
      assert.equal(await embed(gw), 200);
      for (const h of holders) {
        await h.answered();
        assert.equal(h.status, 408);
        h.close();
      }
      await gaugeReaches(gw, 0);
      const big = await fetch(`${gw.url}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "e", input: "y".repeat(30_000) }),
      });
      assert.equal(big.status, 200);
      await big.arrayBuffer();
      assert.equal(up.requests.length, 2);
    },
  );
});

Deno.test("a request answered before its body was read (401) whose client then stalls is closed at the next renewal, not held by Deno's discard", async () => {
  await withServer(
    "  body-idle-timeout: 200ms\n  header-timeout: 500ms",
    async (gw, up) => {
      const c = await RawClient.open(gw.url);
      await c.write(head(gw, "Content-Length: 100000\r\n") + "x".repeat(50_000));
      await c.answered();
      assert.equal(c.status, 401, "answered at once, before the body is through");
      // Left to Deno, the other 50 kB would be awaited by a discard that has no deadline and that
      // no graceful shutdown ends (the gateway drains it itself, so the renewal can).
      const ms = await c.closed;
      assert.ok(ms < 2000, `closed ${Math.round(ms)} ms after opening`);
      c.close();
      assert.equal(up.requests.length, 0);
    },
    "auth:\n  keys:\n    - { name: k, key: sk-the-only-key-0001 }\n",
  );
});

Deno.test("bodies larger than one read, sized and chunked, keep the connection alive: three requests on one socket", async () => {
  await withServer("  body-limit: 1mb", async (gw, up) => {
    const client = await RawClient.open(gw.url);
    const body = JSON.stringify({ model: "e", input: "k".repeat(300_000) });
    const answers = () => client.received.split("HTTP/1.1 ").slice(1).map((a) => Number(a.slice(0, 3)));
    for (const [i, framing] of ["sized", "chunked", "sized"].entries()) {
      await client.write(
        framing === "sized"
          ? head(gw, `Content-Length: ${body.length}\r\n`) + body
          : head(gw, "Transfer-Encoding: chunked\r\n") +
            `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      );
      await eventually(() => answers().length === i + 1 && client.received.endsWith("}"), `answer ${i + 1}`);
    }
    assert.deepEqual(answers(), [200, 200, 200]);
    assert.doesNotMatch(client.received, /connection: close/i);
    assert.equal(up.requests.length, 3);
    client.close();
  });
});

Deno.test("an upload that outlasts header-timeout is received whole: the listener renews once it is in", async () => {
  // The periodic renewal shuts the old server down, which cuts a body read in progress: it waits.
  await withServer("  header-timeout: 200ms\n  body-idle-timeout: 2s", async (gw, up) => {
    const renewals = async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      return Number(
        /^dairouter_listener_renewals_total\{reason="header-timeout"\} (\S+)$/m.exec(text)?.[1] ?? 0,
      );
    };
    const body = JSON.stringify({ model: "e", input: "x".repeat(20_000) });
    const c = await RawClient.open(gw.url);
    await c.write(head(gw, `Content-Length: ${body.length}\r\n`));
    const before = await renewals();
    // ~1.2 s of steady upload, no other request: quiet moments the renewal would have taken.
    for (let i = 0; i < body.length; i += 2000) {
      await c.write(body.slice(i, i + 2000));
      await new Promise((r) => setTimeout(r, 120));
    }
    await c.answered();
    assert.equal(c.status, 200, c.received.slice(0, 200));
    c.close();
    assert.equal(up.requests.length, 1, "the whole body went upstream");
    assert.equal(await renewals(), before, "no renewal while the body was being received");
    // Polled slowly: a renewal waits for 250 ms without a request, these included.
    const until = performance.now() + 10_000;
    while ((await renewals()) === before) {
      if (performance.now() > until) assert.fail("no renewal after the upload");
      await new Promise((r) => setTimeout(r, 1000));
    }
  });
});
