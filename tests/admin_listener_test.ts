/**
 * The admin API on its own listener (`admin.listen`) against slow and greedy clients, through raw
 * sockets: it reads bodies under the server's body deadlines with a 1 MB bound, drains the body
 * of a request it refuses, and closes connections stuck before their request at
 * `server.header-timeout` — as the main port does. Deadlines are small through the config.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../src/config/load.ts";
import { createGateway, type Gateway } from "../src/gateway.ts";
import { serveAdmin } from "../src/http/serve_gateway.ts";
import { RawClient } from "./fakes/raw_client.ts";

const TOKEN = "admin-listener-token-0123456789";

async function withAdmin(fn: (url: string, gateway: Gateway) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/config.yaml`;
  const yaml = `server:
  header-timeout: 1s
  body-idle-timeout: 200ms
  body-timeout: 2s
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "http://127.0.0.1:1" }
admin:
  token: ${TOKEN}
  listen: "127.0.0.1:0"
`;
  await Deno.writeTextFile(file, yaml);
  const { config } = parseConfig(yaml, { source: file, env: {} });
  const gateway = createGateway(config, { clock: Date.now, random: Math.random, fetch, write: () => {} });
  const server = serveAdmin(gateway, { file });
  assert.ok(server, "admin.listen gives the admin API its own listener");
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, gateway);
  } finally {
    await gateway.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

const post = (url: string, headers: string) =>
  `POST /admin/services/chat/instances HTTP/1.1\r\nHost: ${new URL(url).host}\r\n` +
  `Content-Type: application/json\r\n${headers}\r\n`;

Deno.test("admin listener: a body that stalls half-way is a 408 within body-idle-timeout, and the connection closes", async () => {
  await withAdmin(async (url) => {
    const c = await RawClient.open(url);
    try {
      await c.write(post(url, `Authorization: Bearer ${TOKEN}\r\nContent-Length: 100\r\n`) + '{"name":');
      const ms = await c.answered(5000);
      assert.equal(c.status, 408, c.received);
      assert.ok(ms < 3000, `answered after ${Math.round(ms)} ms`);
      assert.match(c.received, /"code":"request_timeout"/);
      await c.closed;
    } finally {
      c.close();
    }
  });
});

Deno.test("admin listener: a refused request's body is drained under the deadlines; the connection does not stay open", async () => {
  await withAdmin(async (url) => {
    const c = await RawClient.open(url);
    try {
      await c.write(post(url, "Content-Length: 1000\r\n") + "{");
      await c.answered(5000);
      assert.equal(c.status, 401);
      const closedAfter = await c.closed;
      assert.ok(closedAfter < 3000, `closed after ${Math.round(closedAfter)} ms`);
    } finally {
      c.close();
    }
  });
});

Deno.test("admin listener: a connection that never finishes its head is closed at header-timeout", async () => {
  await withAdmin(async (url) => {
    const c = await RawClient.open(url);
    try {
      await c.write(`GET /admin/config HTTP/1.1\r\nHost: x\r\n`);
      const closedAfter = await c.closed;
      assert.ok(closedAfter < 3000, `closed after ${Math.round(closedAfter)} ms`);
      assert.equal(c.received, "", "no answer to half a head");
    } finally {
      c.close();
    }
  });
});

Deno.test("admin listener: bodies are bounded to 1 MB, counted with the gateway's pending bytes, and a good one works", async () => {
  await withAdmin(async (url, gateway) => {
    const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const big = await fetch(`${url}/admin/services/chat/instances`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "x".repeat(2 * 1024 * 1024), "base-url": "http://127.0.0.1:2" }),
    });
    assert.equal(big.status, 413);
    await big.body?.cancel();
    assert.equal(gateway.bodyGuard().pending.bytes, 0, "every reservation released");
    const ok = await fetch(`${url}/admin/services/chat/instances`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "n", "base-url": "http://127.0.0.1:2" }),
    });
    assert.equal(ok.status, 201, await ok.clone().text());
    await ok.body?.cancel();
    assert.deepEqual(gateway.runtime().config.services.chat.instances.map((i) => i.name), ["m", "n"]);
  });
});
