/**
 * The operator console over real sockets, without a browser: where it is mounted, who may read
 * it, how its files are served, and that nothing it sends holds a secret.
 */

import assert from "node:assert/strict";
import { createConsole, type OperatorConsole } from "../src/console/mod.ts";
import { adminExtension, createAdminApp } from "../src/http/admin.ts";
import { startGateway, type TestGateway } from "./fakes/gateway.ts";
import { type FakeUpstream, startFakeUpstream } from "./fakes/openai_upstream.ts";

const TOKEN = "console-admin-token-0123456789";
const CLIENT_KEY = "sk-console-client-key-01";
/** Upstream header values whose names no secret-looking pattern catches (security review). */
const HEADER_SECRETS = ["ocp-apim-value-0101", "x-signature-value-0202", "vault-credential-0303"];
const SECRETS = [
  TOKEN,
  CLIENT_KEY,
  "sk-upstream-secret-777",
  "hunter2-password",
  "x-secret-header-value",
  ...HEADER_SECRETS,
];

const yamlFor = (a: FakeUpstream, extra = "") =>
  `model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - name: m
          base-url: "${a.url.replace("http://", "http://ops:hunter2-password@")}"
          api-key: sk-upstream-secret-777
          headers:
            X-Secret-Token: x-secret-header-value
            Ocp-Apim-Subscription-Key: ${HEADER_SECRETS[0]}
            X-Signature: ${HEADER_SECRETS[1]}
            X-Vault-Credential: ${HEADER_SECRETS[2]}
            anthropic-version: "2023-06-01"
        - { name: m, base-url: "${a.url}", enabled: false }
admin:
  token: ${TOKEN}
${extra}`;

interface Env {
  readonly gw: TestGateway;
  readonly a: FakeUpstream;
  readonly ui: OperatorConsole;
  get(path: string, headers?: HeadersInit): Promise<Response>;
}

async function withConsole(extra: string, fn: (env: Env) => Promise<void>): Promise<void> {
  const a = startFakeUpstream({ name: "A" });
  const ui = createConsole({ clock: Date.now, version: "9.9.9" });
  const gw = startGateway(yamlFor(a, extra), {
    extend: adminExtension({ console: ui }),
    onAccess: ui.record,
  });
  try {
    await fn({ gw, a, ui, get: (path, headers) => fetch(`${gw.url}${path}`, { headers }) });
  } finally {
    ui.close();
    await gw.close();
    await a.close();
  }
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** Reads the feed until it holds a tick (bounded by the test's own timeout). */
async function feedText(res: Response): Promise<string> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("event: tick")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  return text;
}

Deno.test("console: off unless console.enabled; its path is then unknown", async () => {
  await withConsole("", async ({ get }) => {
    const res = await get("/ui/");
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
});

Deno.test("console: the page and its files, with CSP, ETag/304, immutable build URLs and br/gzip", async () => {
  await withConsole("console: { enabled: true }\n", async ({ get }) => {
    const bare = await fetch(`${(await get("/ui/")).url.replace(/\/ui\/$/, "")}/ui`, { redirect: "manual" });
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get("location"), "/ui/");

    const page = await get("/ui/", { "accept-encoding": "br" });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(page.headers.get("content-encoding"), "br");
    assert.equal(page.headers.get("cache-control"), "no-cache");
    assert.match(page.headers.get("content-security-policy")!, /^default-src 'none'; script-src 'self';/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    const html = await page.text();
    const build = /assets\/([0-9a-f]{16})\/static\/app\.js/.exec(html)?.[1];
    assert.ok(build, "the page names the current build");
    assert.ok(!html.includes("assets/BUILD/"));

    const again = await get("/ui/", { "accept-encoding": "br", "if-none-match": page.headers.get("etag")! });
    assert.equal(again.status, 304);
    await again.body?.cancel();

    for (
      const [file, type] of [["static/app.js", "text/javascript"], ["static/app.css", "text/css"], [
        "static/icon.svg",
        "image/svg+xml",
      ]]
    ) {
      const res = await get(`/ui/assets/${build}/${file}`, { "accept-encoding": "gzip" });
      assert.equal(res.status, 200, file);
      assert.ok(res.headers.get("content-type")!.startsWith(type), file);
      assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.match(res.headers.get("etag")!, /^"[0-9a-f]{32}-gzip"$/);
      await res.body?.cancel();
    }
    const plain = await get(`/ui/assets/${build}/vendor/preact.mjs`, { "accept-encoding": "identity" });
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.equal((await plain.arrayBuffer()).byteLength, 11970);

    const stale = await get("/ui/assets/0000000000000000/static/app.js");
    assert.equal(stale.status, 404);
    await stale.body?.cancel();
    const post = await fetch(`${page.url}`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });
});

Deno.test("console: the compressed page and the files it loads stay within 250 KB", async () => {
  const ui = createConsole({ clock: Date.now, version: "x" });
  const set = await ui.assets();
  let total = 0, files = 0;
  for (const asset of set.all) {
    if (asset.path.endsWith(".txt")) continue; // licences are served, never loaded by the page
    total += (await asset.encoded).br.byteLength;
    files++;
  }
  console.log(`console assets, Brotli: ${total} bytes in ${files} files`);
  assert.ok(total < 250 * 1024, `${total} bytes`);
});

Deno.test("console: the feed needs the admin token; a wrong one is a clear 401; public-read lets read-only in", async () => {
  await withConsole("console: { enabled: true }\n", async ({ gw, get }) => {
    const none = await get("/ui/api/feed");
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.message, "This console needs the admin token.");
    const wrong = await get("/ui/api/feed", bearer("not-the-token-0000000000"));
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error.message, "Wrong admin token.");
    assert.ok(gw.logs.some((l) => l.includes("console request refused")));
    assert.deepEqual(await (await get("/ui/api/access")).json(), { publicRead: false });
    const ok = await get("/ui/api/feed", bearer(TOKEN));
    assert.equal(ok.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const hello = JSON.parse(/event: hello\ndata: (.*)\n/.exec(await feedText(ok))![1]);
    assert.equal(hello.access, "admin");
    assert.equal(hello.adminPath, "/admin");
    assert.equal(hello.version, "9.9.9");
  });
  await withConsole("console: { enabled: true, public-read: true }\n", async ({ get }) => {
    const res = await get("/ui/api/feed");
    assert.equal(res.status, 200);
    const hello = JSON.parse(/event: hello\ndata: (.*)\n/.exec(await feedText(res))![1]);
    assert.equal(hello.access, "read");
    assert.equal(hello.adminPath, undefined, "no actions without the token");
  });
});

Deno.test("console: with public-read, 16 anonymous feeds that never read leave the operator's page its place", async () => {
  await withConsole("console: { enabled: true, public-read: true }\n", async ({ gw }) => {
    const { hostname, port } = new URL(gw.url);
    const socks: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 16; i++) {
        const conn = await Deno.connect({ hostname, port: Number(port) });
        socks.push(conn);
        await conn.write(new TextEncoder().encode("GET /ui/api/feed HTTP/1.1\r\nHost: x\r\n\r\n"));
      }
      // Each socket reads its status line once, then nothing more.
      const heads: string[] = [];
      for (const conn of socks) {
        const buf = new Uint8Array(4096);
        const n = await conn.read(buf);
        heads.push(new TextDecoder().decode(buf.subarray(0, n ?? 0)));
      }
      const statuses = heads.map((h) => h.slice(0, 12));
      assert.equal(statuses.filter((s) => s === "HTTP/1.1 200").length, 8, "half the places for read-only");
      assert.equal(statuses.filter((s) => s === "HTTP/1.1 503").length, 8);
      assert.ok(heads.some((h) => h.includes("console_unavailable")));
      const operator = await fetch(`${gw.url}/ui/api/feed`, { headers: bearer(TOKEN) });
      assert.equal(operator.status, 200, "the admin token always gets in");
      const hello = JSON.parse(/event: hello\ndata: (.*)\n/.exec(await feedText(operator))![1]);
      assert.equal(hello.access, "admin");
    } finally {
      for (const conn of socks) conn.close();
    }
  });
});

Deno.test("console: nothing the feed sends holds a secret (keys, URL passwords, secret headers, tokens)", async () => {
  const extra = `auth:\n  keys:\n    - { name: app, key: "${CLIENT_KEY}" }\nconsole: { enabled: true }\n`;
  await withConsole(extra, async ({ gw, a, get }) => {
    a.fault = { kind: "status", status: 500 };
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "a secret prompt 4242" }] }),
    });
    assert.equal(res.status, 502);
    await res.body?.cancel();
    const text = await feedText(await get("/ui/api/feed", bearer(TOKEN)));
    assert.match(text, /"status":502/, "the error is listed");
    assert.match(text, /"url":"http:\/\/127\.0\.0\.1:\d+"/, "URLs without their credentials");
    for (const secret of [...SECRETS, "a secret prompt 4242"]) assert.ok(!text.includes(secret), secret);
  });
});

Deno.test("console and admin API: upstream header values are hidden unless public, their names shown", async () => {
  const expected = {
    "X-Secret-Token": "[redacted]",
    "Ocp-Apim-Subscription-Key": "[redacted]",
    "X-Signature": "[redacted]",
    "X-Vault-Credential": "[redacted]",
    "anthropic-version": "2023-06-01",
  };
  await withConsole("console: { enabled: true, public-read: true }\n", async ({ get }) => {
    const anonymous = await feedText(await get("/ui/api/feed"));
    const hello = JSON.parse(/event: hello\ndata: (.*)\n/.exec(anonymous)![1]);
    assert.equal(hello.access, "read");
    assert.deepEqual(hello.config.services.chat.instances[0].headers, expected);
    type Shown = { headers: unknown };
    const views: [string, (body: unknown) => unknown][] = [
      [
        "/admin/config",
        (b) => (b as { services: { chat: { instances: Shown[] } } }).services.chat.instances[0].headers,
      ],
      ["/admin/services/chat/instances", (b) => (b as { instances: Shown[] }).instances[0].headers],
      ["/admin/services/chat/instances/0", (b) => (b as Shown).headers],
    ];
    for (const [path, headersOf] of views) {
      const res = await get(path, bearer(TOKEN));
      assert.equal(res.status, 200, path);
      const text = await res.text();
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `${path} shows ${secret}`);
      assert.deepEqual(headersOf(JSON.parse(text)), expected, path);
    }
    for (const secret of SECRETS) {
      assert.ok(!anonymous.includes(secret), `the anonymous feed shows ${secret}`);
    }
  });
});

Deno.test("console: with auth on, the console needs the admin token, not a client key", async () => {
  const extra = `auth:\n  keys:\n    - { name: app, key: "${CLIENT_KEY}" }\nconsole: { enabled: true }\n`;
  await withConsole(extra, async ({ get }) => {
    const page = await get("/ui/");
    assert.equal(page.status, 200, "the page itself is public: it holds no data");
    await page.body?.cancel();
    const withClientKey = await get("/ui/api/feed", bearer(CLIENT_KEY));
    assert.equal(withClientKey.status, 401);
    await withClientKey.body?.cancel();
    const models = await get("/v1/models");
    assert.equal(models.status, 401, "other paths still need a client key");
    await models.body?.cancel();
  });
});

Deno.test("console: with admin.listen it is served there only, with the admin API", async () => {
  const a = startFakeUpstream({ name: "A" });
  const ui = createConsole({ clock: Date.now, version: "1" });
  const yaml = yamlFor(a, "console: { enabled: true }\n").replace(
    `admin:\n  token: ${TOKEN}\n`,
    `admin:\n  token: ${TOKEN}\n  listen: "127.0.0.1:1"\n`,
  );
  const gw = startGateway(yaml, { extend: adminExtension({ console: ui }), onAccess: ui.record });
  const adminServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createAdminApp(gw.gateway, { console: ui }).fetch,
  );
  try {
    const main = await fetch(`${gw.url}/ui/`);
    assert.equal(main.status, 404);
    await main.body?.cancel();
    const there = await fetch(`http://127.0.0.1:${adminServer.addr.port}/ui/`);
    assert.equal(there.status, 200);
    await there.body?.cancel();
  } finally {
    ui.close();
    await adminServer.shutdown();
    await gw.close();
    await a.close();
  }
});
