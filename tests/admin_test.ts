/**
 * End-to-end admin API: a real gateway whose config lives in a temporary YAML file, changed over
 * real sockets; traffic from the official `openai` SDK shows each change taking effect.
 */

import assert from "node:assert/strict";
import OpenAI from "openai";
import { parseConfig } from "../src/config/load.ts";
import { adminExtension, createAdminApp } from "../src/http/admin.ts";
import { startGateway, type TestGateway } from "./fakes/gateway.ts";
import { type FakeUpstream, startFakeUpstream } from "./fakes/openai_upstream.ts";

const TOKEN = "admin-token-0123456789abcdef";
const CLIENT_KEY = "sk-client-key-0001";

const yamlFor = (a: FakeUpstream, extra = "") =>
  `# DAiRouter under test
model:
  load-balance:
    type: round-robin # spread evenly
  health-check: { enabled: false }
  services:
    chat:
      instances:
        # the first upstream
        - name: m
          base-url: "${a.url}"
          api-key: sk-upstream-secret-123 # never shown
        - { name: slow, base-url: "${a.url}" }
${extra}admin:
  token: \${ADMIN_TOKEN}
`;

interface Env {
  readonly gw: TestGateway;
  readonly file: string;
  readonly a: FakeUpstream;
  readonly b: FakeUpstream;
  readonly client: OpenAI;
  admin(method: string, path: string, body?: unknown, token?: string): Promise<Response>;
}

async function withAdmin(fn: (env: Env) => Promise<void>, extra = ""): Promise<void> {
  const a = startFakeUpstream({ name: "A", chunkDelayMs: 60 });
  const b = startFakeUpstream({ name: "B" });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-admin-" });
  const file = `${dir}/dairouter.yaml`;
  const text = yamlFor(a, extra);
  await Deno.writeTextFile(file, text);
  const env = { ADMIN_TOKEN: TOKEN };
  const gw = startGateway(text, { env, extend: adminExtension({ file, env }) });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  const admin = (method: string, path: string, body?: unknown, token = TOKEN) =>
    fetch(`${gw.url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  try {
    await fn({ gw, file, a, b, client, admin });
  } finally {
    await gw.close();
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const chat = async (client: OpenAI, model = "m") =>
  (await client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] }))
    .system_fingerprint;

Deno.test("admin: a missing or wrong token is 401, and a client API key is not an admin token", async () => {
  const extra = `auth:\n  keys:\n    - { name: app, key: "${CLIENT_KEY}" }\n`;
  await withAdmin(async ({ gw, admin, client }) => {
    const none = await fetch(`${gw.url}/admin/config`);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.type, "authentication_error");
    for (const token of ["admin-token-0123456789abcdeX", CLIENT_KEY]) {
      const res = await admin("GET", "/config", undefined, token);
      assert.equal(res.status, 401, token);
      await res.body?.cancel();
    }
    assert.equal((await admin("GET", "/config")).status, 200);
    assert.equal(await chat(client), "A", "the client key still works on the API");
    assert.equal(gw.logs.filter((l) => l.includes("admin request refused")).length, 3);
    for (const secret of [TOKEN, CLIENT_KEY, "admin-token-0123456789abcdeX"]) {
      assert.ok(!gw.logs.some((l) => l.includes(secret)), secret);
    }
  }, extra);
});

Deno.test("admin: without an admin block its paths are 404", async () => {
  const a = startFakeUpstream({ name: "A" });
  const yaml =
    `model:\n  services:\n    chat:\n      instances:\n        - { name: m, base-url: "${a.url}" }\n`;
  const gw = startGateway(yaml, { extend: adminExtension() });
  try {
    const res = await fetch(`${gw.url}/admin/config`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "unknown_url");
  } finally {
    await gw.close();
    await a.close();
  }
});

Deno.test("admin: GET config is the effective config with every secret redacted", async () => {
  await withAdmin(async ({ admin }) => {
    const res = await admin("GET", "/config");
    const text = await res.text();
    assert.equal(res.status, 200);
    const config = JSON.parse(text);
    assert.equal(config.services.chat.loadBalance.type, "round-robin");
    assert.equal(config.services.chat.instances[0].apiKey, "[redacted]");
    assert.equal(config.admin.tokenSha256, "[redacted]");
    assert.ok(!text.includes("sk-upstream-secret-123") && !text.includes(TOKEN));
  });
});

Deno.test("admin: an added instance takes traffic; the file keeps its comments and a .bak", async () => {
  await withAdmin(async ({ admin, client, file, b }) => {
    const before = await Deno.readTextFile(file);
    const res = await admin("POST", "/services/chat/instances", { name: "m", baseUrl: b.url, weight: 1 });
    assert.equal(res.status, 201);
    const added = await res.json();
    assert.equal(added.index, 2);
    assert.equal(added.id, `chat/m@${b.url}`);
    const seen = [await chat(client), await chat(client), await chat(client), await chat(client)];
    assert.deepEqual(seen.sort(), ["A", "A", "B", "B"]);

    const after = await Deno.readTextFile(file);
    for (
      const comment of ["# DAiRouter under test", "# spread evenly", "# the first upstream", "# never shown"]
    ) {
      assert.ok(after.includes(comment), comment);
    }
    assert.match(
      after,
      new RegExp(`- name: m\\n\\s+base-url: ${b.url.replaceAll(".", "\\.")}\\n\\s+weight: 1`),
    );
    assert.equal(await Deno.readTextFile(`${file}.bak`), before);
    assert.equal(
      parseConfig(after, { source: file, env: { ADMIN_TOKEN: TOKEN } }).config.services.chat.instances.length,
      3,
    );
  });
});

Deno.test("admin: PATCH enabled false takes an instance out of rotation, true brings it back", async () => {
  await withAdmin(async ({ admin, client, b }) => {
    await (await admin("POST", "/services/chat/instances", { name: "m", "base-url": b.url })).body?.cancel();
    const off = await admin("PATCH", "/services/chat/instances/2", { enabled: false });
    assert.equal(off.status, 200);
    assert.equal((await off.json()).enabled, false);
    const seen = [await chat(client), await chat(client), await chat(client)];
    assert.deepEqual(seen, ["A", "A", "A"]);
    const list = await (await admin("GET", "/services/chat/instances")).json();
    assert.deepEqual(list.instances.map((i: { enabled: boolean }) => i.enabled), [true, true, false]);

    const id = encodeURIComponent(`chat/m@${b.url}`);
    await (await admin("PATCH", `/services/chat/instances/${id}`, { enabled: true })).body?.cancel();
    const back = [await chat(client), await chat(client)];
    assert.deepEqual(back.sort(), ["A", "B"]);
  });
});

Deno.test("admin: an invalid change is a 400 with the loader's words, and the file is left alone", async () => {
  await withAdmin(async ({ admin, file }) => {
    const before = await Deno.readTextFile(file);
    const cases: Array<[string, string, unknown, RegExp]> = [
      ["PUT", "/services/chat/load-balance", { type: "fastest" }, /load-balance\.type must be one of random/],
      ["PATCH", "/services/chat/instances/0", { weight: -1 }, /instances\[0\]\.weight must be >= 0/],
      ["POST", "/services/chat/instances", { name: "x" }, /instances\[2\]\.base-url is required/],
      [
        "PATCH",
        "/services/chat/instances/0",
        { wieght: 2 },
        /instances\[0\]\.wieght is an unknown key — did you mean weight\?/,
      ],
      [
        "PATCH",
        "/services/chat/instances/0",
        { healthy: true },
        /Unknown key: model\.services\.chat\.instances\[0\]\.healthy \(line \d+\)/,
      ],
      ["PUT", "/services/chat/rate-limit", "{not json", /must be JSON/],
      // Thousands deep overflowed the validation's stack: a 500 before the depth bound.
      [
        "PATCH",
        "/services/chat/instances/0",
        `{"headers":${"[".repeat(3000)}${"]".repeat(3000)}}`,
        /nested more than 32/,
      ],
      [
        "POST",
        "/services/chat/instances",
        `{"name":${"[".repeat(3000)}${"]".repeat(3000)}}`,
        /nested more than 32/,
      ],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await admin(method, path, body);
      assert.equal(res.status, 400, `${method} ${path}`);
      const error = (await res.json()).error;
      assert.equal(error.type, "invalid_request_error");
      assert.match(error.message, message);
    }
    assert.equal(await Deno.readTextFile(file), before);
    const missing = await admin("PATCH", "/services/chat/instances/9", { enabled: false });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});

Deno.test("admin: PUT rate-limit, circuit-breaker and load-balance change the live service", async () => {
  await withAdmin(async ({ admin, client, gw }) => {
    const limit = await admin("PUT", "/services/chat/rate-limit", {
      algorithm: "fixed-window",
      capacity: 1,
      window: "1m",
    });
    assert.equal(limit.status, 200);
    assert.equal((await limit.json()).rateLimit.capacity, 1);
    await chat(client);
    await assert.rejects(chat(client), (err: unknown) => err instanceof OpenAI.RateLimitError);

    await (await admin("DELETE", "/services/chat/rate-limit")).body?.cancel();
    await chat(client);
    const breaker = await admin("PUT", "/services/chat/circuit-breaker", {
      failureThreshold: 9,
      timeout: "5s",
    });
    assert.equal((await breaker.json()).circuitBreaker.failureThreshold, 9);
    const lb = await admin("PUT", "/services/chat/load-balance", { type: "least-connections" });
    assert.equal((await lb.json()).loadBalance.type, "least-connections");
    const svc = gw.gateway.runtime().config.services.chat;
    assert.equal(svc.circuitBreaker.timeoutMs, 5000);
    assert.equal(svc.loadBalance.type, "least-connections");
    assert.equal(svc.rateLimit, undefined);
    const unknown = await admin("PUT", "/services/chat/retry", { maxAttempts: 1 });
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  });
});

Deno.test("admin: a stream in flight finishes on the old config while its instance is removed", async () => {
  await withAdmin(async ({ admin, client, a }) => {
    const stream = await client.chat.completions.create({
      model: "slow",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const parts: string[] = [];
    let removed: Response | undefined;
    for await (const chunk of stream) {
      parts.push(chunk.choices[0]?.delta?.content ?? "");
      if (!removed) {
        removed = await admin("DELETE", "/services/chat/instances/1");
        assert.equal(removed.status, 200);
        assert.equal(a.openStreams, 1, "the change was applied while the stream was open");
      }
    }
    assert.equal(parts.join(""), "w0 w1 w2 w3 w4 ");
    await assert.rejects(chat(client, "slow"), (err: unknown) => err instanceof OpenAI.NotFoundError);
  });
});

Deno.test("admin: concurrent changes are applied one after the other, none lost", async () => {
  await withAdmin(async ({ admin, gw, b }) => {
    const results = await Promise.all(
      [1, 2, 3].map((w) =>
        admin("POST", "/services/chat/instances", { name: `n${w}`, baseUrl: b.url, weight: w })
      ),
    );
    assert.deepEqual(results.map((r) => r.status), [201, 201, 201]);
    await Promise.all(results.map((r) => r.body?.cancel()));
    const names = gw.gateway.runtime().config.services.chat.instances.map((i) => i.name);
    assert.deepEqual(names, ["m", "slow", "n1", "n2", "n3"]);
  });
});

Deno.test("admin: concurrent edits by id on replicas sharing a name each hit their own instance", async () => {
  await withAdmin(async ({ admin, gw, b, file }) => {
    for (const id of ["gpu-a", "gpu-b", "gpu-c", "gpu-d"]) {
      const res = await admin("POST", "/services/chat/instances", {
        name: "r",
        baseUrl: b.url,
        instanceId: id,
      });
      assert.equal(res.status, 201);
      await res.body?.cancel();
    }
    // Sent together: each is resolved when its turn comes, against the file as it is then.
    const [removeA, drainC, removeB1, removeB2] = await Promise.all([
      admin("DELETE", "/services/chat/instances/gpu-a"),
      admin("PATCH", "/services/chat/instances/gpu-c", { enabled: false }),
      admin("DELETE", "/services/chat/instances/gpu-b"),
      admin("DELETE", "/services/chat/instances/gpu-b"),
    ]);
    assert.equal(removeA.status, 200);
    assert.equal(drainC.status, 200);
    const drained = await drainC.json();
    assert.deepEqual([drained.id, drained.enabled], ["gpu-c", false]);
    assert.deepEqual([removeB1.status, removeB2.status].sort(), [200, 404], "the same DELETE twice: once");
    await Promise.all([removeA, removeB1, removeB2].map((r) => r.body?.cancel()));
    const live = gw.gateway.runtime().config.services.chat.instances.map((i) => [i.id, i.enabled]);
    assert.deepEqual(live.slice(2), [["gpu-c", false], ["gpu-d", true]]);
    const written = parseConfig(await Deno.readTextFile(file), { source: file, env: { ADMIN_TOKEN: TOKEN } });
    assert.deepEqual(
      written.config.services.chat.instances.map((i) => [i.id, i.enabled]),
      live,
      "the file holds what runs",
    );
  });
});

Deno.test("admin: a PATCH on an instance sharing YAML anchors changes that instance only", async () => {
  await withAdmin(async ({ admin, gw, file }) => {
    const text = (await Deno.readTextFile(file))
      .replace(
        "api-key: sk-upstream-secret-123 # never shown",
        "$&\n          weight: &w 3\n          headers: &h { X-Team: blue }",
      )
      .replace(
        /- \{ name: slow, base-url: ("[^"]+") \}/,
        "- { name: slow, base-url: $1, weight: *w, headers: *h }",
      );
    await Deno.writeTextFile(file, text);
    assert.equal((await admin("POST", "/reload")).status, 200);
    const shared = () =>
      gw.gateway.runtime().config.services.chat.instances.map((
        i,
      ) => [i.name, i.weight, i.headers?.["X-Team"]]);
    assert.deepEqual(shared(), [["m", 3, "blue"], ["slow", 3, "blue"]]);

    const m = await admin("PATCH", "/services/chat/instances/0", { weight: 1, headers: { "X-Team": "red" } });
    assert.equal(m.status, 200);
    assert.deepEqual([(await m.json()).weight], [1]);
    assert.deepEqual(shared(), [["m", 1, "red"], ["slow", 3, "blue"]], "slow keeps the anchored values");
    const slow = await admin("PATCH", "/services/chat/instances/1", { weight: 2 });
    assert.equal(slow.status, 200);
    await slow.body?.cancel();
    assert.deepEqual(shared(), [["m", 1, "red"], ["slow", 2, "blue"]]);
    const written = parseConfig(await Deno.readTextFile(file), { source: file, env: { ADMIN_TOKEN: TOKEN } });
    assert.deepEqual(
      written.config.services.chat.instances.map((i) => [i.name, i.weight, i.headers?.["X-Team"]]),
      shared(),
    );
  });
});

Deno.test("admin: a ${VAR} sent is literal data, never filled from the gateway's environment", async () => {
  // The test gateway's environment holds ADMIN_TOKEN (the file's admin.token is "${ADMIN_TOKEN}").
  await withAdmin(async ({ admin, gw, b, file }) => {
    const patched = await admin("PATCH", "/services/chat/instances/0", {
      "upstream-model": "${ADMIN_TOKEN}",
    });
    assert.equal(patched.status, 200);
    const shown = await patched.text();
    assert.equal(JSON.parse(shown).upstreamModel, "${ADMIN_TOKEN}");
    assert.ok(!shown.includes(TOKEN), "the PATCH answer does not show the variable");

    const added = await admin("POST", "/services/chat/instances", { name: "${ADMIN_TOKEN}", baseUrl: b.url });
    assert.equal(added.status, 201);
    await added.body?.cancel();
    const models = await (await fetch(`${gw.url}/v1/models`)).text();
    assert.ok(models.includes('"${ADMIN_TOKEN}"') && !models.includes(TOKEN), models);

    const refused = await admin("PATCH", "/services/chat/instances/0", { "base-url": "${ADMIN_TOKEN}" });
    assert.equal(refused.status, 400);
    const message = (await refused.json()).error.message;
    assert.match(message, /base-url must be an http\(s\) URL, received "\$\{ADMIN_TOKEN\}"/);
    assert.ok(!message.includes(TOKEN), message);

    const text = await Deno.readTextFile(file);
    assert.match(text, /upstream-model: \$\$\{ADMIN_TOKEN\}/);
    assert.match(text, /token: \$\{ADMIN_TOKEN\}/, "the operator's own placeholder is left as written");
    assert.equal((await admin("GET", "/config")).status, 200, "and still filled: the token works");
    assert.ok(!gw.logs.some((l) => l.includes(TOKEN)));
  });
});

Deno.test("admin: with admin.listen it answers on its own listener only", async () => {
  await withAdmin(async ({ gw, admin, file }) => {
    const text = (await Deno.readTextFile(file)).replace("admin:\n", 'admin:\n  listen: "127.0.0.1:0"\n');
    gw.gateway.reload(parseConfig(text, { source: file, env: { ADMIN_TOKEN: TOKEN } }).config);
    const main = await admin("GET", "/config");
    assert.equal(main.status, 404);
    await main.body?.cancel();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      createAdminApp(gw.gateway, { file }).fetch,
    );
    try {
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/admin/services/chat/instances`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).instances.length, 2);
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("admin: POST /reload re-reads the file; an invalid file is a 400 and the running config stays", async () => {
  await withAdmin(async ({ gw, file, admin, b, client }) => {
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(
      file,
      text.replace(/- \{ name: slow, base-url: "[^"]+" \}/, `- { name: slow, base-url: "${b.url}" }`),
    );
    const ok = await admin("POST", "/reload");
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).reloaded, true);
    assert.equal(await chat(client, "slow"), "B");
    assert.ok(gw.logs.some((l) => l.includes("admin change applied") && l.includes('"change":"reload"')));

    await Deno.writeTextFile(file, text.replace("round-robin", "no-such-strategy"));
    const bad = await admin("POST", "/reload");
    assert.equal(bad.status, 400);
    const error = (await bad.json()).error;
    assert.equal(error.code, "invalid_config");
    assert.match(error.message, /load-balance\.type .*line 4/);
    assert.equal(await chat(client, "slow"), "B", "the previous config keeps serving");
  });
});

Deno.test("admin: POST …/breaker/reset closes an open breaker now, audited, nothing written", async () => {
  await withAdmin(async ({ gw, file, a, admin, client }) => {
    const set = await admin("PUT", "/services/chat/circuit-breaker", {
      enabled: true,
      "failure-threshold": 1,
      timeout: 600000,
    });
    assert.equal(set.status, 200);
    await set.body?.cancel();
    const before = await Deno.readTextFile(file);
    a.fault = { kind: "status", status: 500 };
    await assert.rejects(() => chat(client));
    a.fault = { kind: "none" };
    const open = await (await admin("GET", "/services/chat/instances/0")).json();
    assert.equal(open.breaker, "open");
    const res = await admin("POST", "/services/chat/instances/0/breaker/reset");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).breaker, "closed");
    assert.equal(await chat(client), "A");
    assert.equal(await Deno.readTextFile(file), before);
    assert.ok(
      gw.logs.some((l) => l.includes("reset breaker of instance 0 of chat") && l.includes('"from":"open"')),
    );
    const missing = await admin("POST", "/services/chat/instances/9/breaker/reset");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});
