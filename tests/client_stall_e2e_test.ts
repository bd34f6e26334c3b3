/**
 * A client that stops reading a stream, through a real gateway process and raw sockets: the relay
 * then waits on the client (its socket full, the upstream paused by backpressure), so past
 * `timeouts.idle` the stream is cut as the client's abort — not an upstream idle timeout that
 * would count against the instance — and the same instance serves the next client.
 */

import assert from "node:assert/strict";
import { spawnGateway } from "./fakes/process.ts";

const ENC = new TextEncoder();
const BODY = JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });

Deno.test("a client that stops reading a stream is cut after idle as its own abort; the instance is not blamed", async () => {
  // An upstream that sends as fast as the socket takes: a paused reader fills every buffer.
  const chunk = ENC.encode(
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "x".repeat(8000) } }] })}\n\n`,
  );
  const up = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    let sent = 0;
    return new Response(
      new ReadableStream({ pull: (c) => (++sent > 20_000 ? c.close() : c.enqueue(chunk)) }, {
        highWaterMark: 0,
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  const dir = await Deno.makeTempDir();
  const file = `${dir}/gw.yaml`;
  await Deno.writeTextFile(
    file,
    `model:
  health-check: { enabled: false }
  timeouts: { idle: 1s }
  retry: { max-attempts: 1 }
  services:
    chat:
      instances: [{ name: m, base-url: "http://127.0.0.1:${up.addr.port}" }]
`,
  );
  const gw = await spawnGateway(["--config", file, "--no-watch"]);
  try {
    // A raw socket: `fetch` would keep reading into its own buffer; this client really stops.
    const { hostname, port } = new URL(gw.url);
    const conn = await Deno.connect({ hostname, port: Number(port) });
    await conn.write(ENC.encode(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${BODY.length}\r\n\r\n${BODY}`,
    ));
    const head = new Uint8Array(4096);
    await conn.read(head);
    assert.match(new TextDecoder().decode(head), /^HTTP\/1\.1 200/);
    await new Promise((r) => setTimeout(r, 2500)); // takes nothing for longer than idle
    // Reads again: the gateway has cut the stream meanwhile, so it ends (well before 160 MB).
    const buf = new Uint8Array(1 << 16);
    let got = 0;
    for (
      let n = await conn.read(buf).catch(() => null);
      n !== null;
      n = await conn.read(buf).catch(() => null)
    ) {
      got += n;
    }
    conn.close();
    assert.ok(got < 100e6, `the stream was cut (${got} bytes read)`);
    const line = await gw.waitFor(/"msg":"access"/, 5_000);
    assert.equal(JSON.parse(line).error, "client_abort", line);
    const status = await (await fetch(`${gw.url}/v1/chat/status`)).json();
    assert.equal(status.instances[0].healthy, true, JSON.stringify(status.instances[0]));
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.doesNotMatch(
      metrics,
      /dairouter_upstream_errors_total\{[^}]*kind="timeout"/,
      "no timeout counted",
    );
    const next = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
    });
    assert.equal(next.status, 200, "the same instance serves the next client");
    await next.body?.cancel();
  } finally {
    gw.kill("SIGKILL");
    await gw.exited;
    await up.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
