/**
 * Connections that never finish their request, through real sockets and a real gateway on its
 * renewable listener: with `server.header-timeout` they are closed within the period, with a cap
 * on open files they are shed as soon as the count passes it, and when the accept loop fails the
 * gateway listens again — while requests in flight, streams included, finish and other clients
 * are served.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../src/config/load.ts";
import { createGateway, type Gateway } from "../src/gateway.ts";
import type { RenewableListener, ServeFn } from "../src/http/listener.ts";
import { serveGateway, type ServeGatewayOptions } from "../src/http/serve_gateway.ts";
import { eventually, postChat } from "./fakes/gateway.ts";
import { spawnGateway } from "./fakes/process.ts";
import { type FakeUpstream, startFakeUpstream } from "./fakes/openai_upstream.ts";
import { seededRandom } from "./fakes/random.ts";

const enc = new TextEncoder();

/** A raw connection that writes `text` and then stalls; `closed` resolves when the server closes it. */
async function stall(port: number, text: string): Promise<{ closed: Promise<string>; close(): void }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (text) await conn.write(enc.encode(text));
  const closed = (async () => {
    const buf = new Uint8Array(4096);
    let got = "";
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        got += new TextDecoder().decode(buf.subarray(0, n));
      }
    } catch { /* reset */ }
    return got;
  })();
  return {
    closed,
    close: () => {
      try {
        conn.close();
      } catch { /* closed already */ }
    },
  };
}

const STALLS = [
  "",
  "POST /v1/chat/completions HT",
  "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Ty",
];

interface Env {
  gateway: Gateway;
  listener: RenewableListener;
  up: FakeUpstream;
  url: string;
  logs: string[];
}

async function withListener(
  server: string,
  options: Partial<ServeGatewayOptions>,
  fn: (env: Env) => Promise<void>,
) {
  const up = startFakeUpstream({ name: "U", streamChunks: 8, chunkDelayMs: 100 });
  const { config } = parseConfig(
    `server:\n${server}\nmodel:\n  health-check: { enabled: false }\n  services:\n    chat:\n      instances:\n` +
      `        - { name: m, base-url: "${up.url}" }\n`,
    { source: "test.yaml", env: {} },
  );
  const logs: string[] = [];
  const gateway = createGateway(config, {
    clock: Date.now,
    random: seededRandom(7),
    fetch,
    write: (l) => logs.push(l),
  });
  const listener = serveGateway(gateway, config.server, {
    hostname: "127.0.0.1",
    port: 0,
    checkIntervalMs: 50,
    ...options,
  });
  try {
    await fn({ gateway, listener, up, url: `http://127.0.0.1:${listener.addr.port}`, logs });
  } finally {
    await gateway.close();
    await listener.shutdown();
    await up.close();
  }
}

const chat = (url: string, stream = false) => postChat(url, { body: { stream } });

Deno.test("header-timeout: connections that send nothing, half a request line or half their headers are closed within the period; a stream in flight finishes", async () => {
  await withListener("  header-timeout: 400ms", {}, async ({ listener, url, logs }) => {
    const port = listener.addr.port;
    const stream = await chat(url, true);
    assert.equal(stream.status, 200);
    const t0 = performance.now();
    const stalled = await Promise.all(STALLS.map((s) => stall(port, s)));
    for (let i = 0; i < 5; i++) {
      const res = await chat(url);
      assert.equal(res.status, 200, "other clients are served");
      await res.arrayBuffer();
    }
    for (const s of stalled) {
      await s.closed;
      s.close();
    }
    const ms = performance.now() - t0;
    assert.ok(ms < 400 + 50 + 300, `stalled connections closed after ${Math.round(ms)} ms`);
    const text = await stream.text();
    assert.match(text, /data: \[DONE\]/, "the stream that spanned a renewal finished whole");
    assert.equal(
      logs.filter((l) => l.includes('"level":"warn"')).length,
      0,
      "routine renewals are not warnings",
    );
  });
});

Deno.test("header-timeout: a body answered 408 leaves its connection open only until the next renewal", async () => {
  await withListener(
    "  header-timeout: 600ms\n  body-idle-timeout: 150ms",
    {},
    async ({ gateway, listener, url }) => {
      const body = await stall(
        listener.addr.port,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          'Content-Length: 500\r\n\r\n{"model":"m",',
      );
      const t0 = performance.now();
      const got = await body.closed;
      body.close();
      assert.match(got, /^HTTP\/1\.1 408/);
      assert.ok(performance.now() - t0 < 600 + 50 + 300, "closed by the renewal");
      assert.match(
        await gateway.metrics.render(),
        /dairouter_listener_renewals_total\{reason="header-timeout"\} [1-9]/,
      );
      assert.equal((await chat(url)).status, 200);
    },
  );
});

Deno.test("without a shareable port (no SO_REUSEPORT) a renewal closes the old server first and binds again", async () => {
  let binds = 0;
  const serve: ServeFn = (options, handler) => {
    if (options.reusePort) throw new TypeError("Unstable API 'Deno.listen({ reusePort: true })'");
    binds++;
    return Deno.serve(options, handler);
  };
  await withListener("", { serve }, async ({ listener, url }) => {
    const stalled = await stall(listener.addr.port, "GET / HT");
    const before = listener.addr.port;
    listener.renew("header-timeout");
    await stalled.closed;
    stalled.close();
    await eventually(() => binds === 2, "bound again");
    assert.equal(listener.addr.port, before, "same port");
    const res = await chat(url);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });
});

Deno.test("max-connections: past the cap, idle and half-sent connections are shed at once; requests in flight finish", async () => {
  let open = 0;
  await withListener(
    "  max-connections: 10",
    { openFiles: () => open },
    async ({ gateway, listener, url, logs }) => {
      const port = listener.addr.port;
      const slow = chat(url, true);
      const stalled = [];
      for (let i = 0; i < 12; i++) stalled.push(await stall(port, STALLS[i % STALLS.length]));
      open = 30; // what the process would report with them
      for (const s of stalled) {
        await s.closed;
        s.close();
      }
      open = 5;
      const res = await slow;
      assert.equal(res.status, 200);
      assert.match(await res.text(), /data: \[DONE\]/);
      assert.ok(
        logs.some((l) => l.includes('"reason":"max-connections"') && l.includes("30 open files > 10")),
      );
      const metrics = await gateway.metrics.render();
      assert.match(metrics, /dairouter_listener_renewals_total\{reason="max-connections"\} [1-9]/);
      assert.equal((await chat(url)).status, 200);
    },
  );
});

Deno.test("a failed accept loop (EMFILE) does not leave the gateway deaf: its stuck connections are closed and it listens again", async () => {
  const fail = Promise.withResolvers<void>();
  let served = 0;
  const serve: ServeFn = (options, handler) => {
    const server = Deno.serve(options, handler);
    // The first server's accept loop "fails" on demand, as Deno's does on EMFILE.
    if (served++ > 0) return server;
    const finished = Promise.race([
      server.finished,
      fail.promise.then(() => Promise.reject(new Error("Too many open files (os error 24)"))),
    ]);
    finished.catch(() => {});
    return Object.assign(Object.create(Object.getPrototypeOf(server)), server, {
      finished,
      shutdown: () => server.shutdown(),
      addr: server.addr,
    });
  };
  await withListener("", { serve }, async ({ listener, url, logs }) => {
    const stalled = await Promise.all(STALLS.map((s) => stall(listener.addr.port, s)));
    fail.resolve();
    for (const s of stalled) {
      await s.closed;
      s.close();
    }
    await eventually(() => logs.some((l) => l.includes('"reason":"accept-error"')), "renewal logged");
    const res = await chat(url);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(served, 2);
  });
});

Deno.test("the real binary with 256 file descriptors outlives 400 stalled connections and keeps serving", async () => {
  const up = startFakeUpstream({ name: "U" });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-fds-" });
  const file = `${dir}/gw.yaml`;
  await Deno.writeTextFile(
    file,
    `server:\n  drain-delay: 0\nmodel:\n  health-check: { enabled: false }\n  services:\n    chat:\n      instances:\n` +
      `        - { name: m, base-url: "${up.url}" }\n`,
  );
  // The release build's permissions: without --allow-all, Deno refuses /proc/self, so only the
  // accept-error renewal is there to save the gateway.
  const gw = await spawnGateway(["--config", file, "--no-watch"], {}, {
    fdLimit: 256,
    permissions: ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys"],
  });
  const port = Number(new URL(gw.url).port);
  const conns: Deno.Conn[] = [];
  try {
    // More than the process can hold: some are refused or reset, none may kill the gateway.
    for (let i = 0; i < 400; i++) {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.push(c);
        await c.write(enc.encode(STALLS[i % STALLS.length] || "P")).catch(() => {});
      } catch { /* refused while the gateway renews its listener */ }
    }
    await gw.waitFor(/"msg":"listener renewed/, 10_000);
    let ok = 0;
    for (let i = 0; i < 20 && ok < 3; i++) {
      try {
        const res = await chat(gw.url);
        await res.arrayBuffer();
        if (res.status === 200) ok++;
      } catch { /* a renewal in progress */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(ok, 3, "serving while the stalled connections are still open");
    assert.ok(!gw.lines.some((l) => /Uncaught/.test(l)), gw.lines.join("\n"));
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed by the gateway */ }
    }
    gw.kill("SIGTERM");
    assert.equal(await gw.exited, 0);
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an oversized request head is refused by Deno itself with 400 before the gateway sees it (431 is not ours to send)", async () => {
  await withListener("", {}, async ({ listener, logs }) => {
    // Deno 2.9 (ext/http write_h1_bad_request): heads over 64 KiB or 128 fields get a bare 400.
    // When this starts failing, Deno lets the application answer: map it to 431 then.
    for (
      const head of [
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`,
        `GET /healthz HTTP/1.1\r\nHost: x\r\n${
          Array.from({ length: 130 }, (_, i) => `X-H${i}: 1\r\n`).join("")
        }\r\n`,
      ]
    ) {
      const conn = await stall(listener.addr.port, head);
      assert.match(await conn.closed, /^HTTP\/1\.1 400 /);
      conn.close();
    }
    assert.equal(logs.filter((l) => l.includes('"msg":"access"')).length, 0, "never reached the gateway");
  });
});
