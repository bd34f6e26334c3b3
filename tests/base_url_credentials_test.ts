/**
 * An instance `base-url` with credentials (`http://user:password@host`) through real sockets:
 * requests and health probes go to the URL without them and carry `Authorization: Basic`
 * (RFC 7617) — unless the instance has an `api-key`, which wins — and the credentials appear in no
 * log line, metric, status page, console message or `GET /admin/config`.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../src/config/load.ts";
import { createConsole } from "../src/console/mod.ts";
import { adminExtension } from "../src/http/admin.ts";
import { eventually, startGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";

const PASSWORD = "p@ss-4242";
const TOKEN_USER = "tok-5151-user";
const API_KEY = "sk-own-6161";
const ADMIN = "base-url-admin-token-0123456789";
const basic = (userPass: string) => `Basic ${btoa(userPass)}`;
const SECRETS = [
  PASSWORD,
  encodeURIComponent(PASSWORD),
  TOKEN_USER,
  btoa(`svc:${PASSWORD}`),
  btoa(`${TOKEN_USER}:`),
];

const yamlFor = (port: string) => `
model:
  health-check: { interval: 30, timeout: 500 }
  services:
    chat:
      instances:
        - { name: m, base-url: "http://svc:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}" }
        - { name: t, base-url: "http://${TOKEN_USER}@127.0.0.1:${port}/", health-check: { type: none } }
        - name: k
          base-url: "http://svc:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}"
          api-key: ${API_KEY}
          health-check: { type: none }
admin:
  token: ${ADMIN}
console: { enabled: true }
`;

const chat = (url: string, model: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    // A client credential (auth is off): it must never reach an instance that has its own.
    headers: {
      "content-type": "application/json",
      authorization: "Bearer client-key-7272",
      "x-api-key": "ck",
    },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });

Deno.test("base-url credentials become Authorization: Basic on requests and probes, and are shown nowhere", async () => {
  const up = startFakeUpstream({ name: "U" });
  const port = String(up.port);
  const ui = createConsole({ clock: Date.now, version: "0.0.0" });
  const gw = startGateway(yamlFor(port), {
    probes: true,
    extend: adminExtension({ console: ui }),
    onAccess: ui.record,
  });
  const auth = (path: string, model: string) =>
    up.requests.findLast((r) => r.path === path && new TextDecoder().decode(r.body).includes(`"${model}"`))
      ?.headers;
  try {
    for (const model of ["m", "t", "k"]) {
      const res = await chat(gw.url, model);
      assert.equal(res.status, 200, `${model}: ${await res.clone().text()}`);
      await res.body?.cancel();
    }
    assert.equal(auth("/v1/chat/completions", "m")?.get("authorization"), basic(`svc:${PASSWORD}`));
    assert.equal(auth("/v1/chat/completions", "m")?.get("x-api-key"), null, "the client's key stays out");
    assert.equal(auth("/v1/chat/completions", "t")?.get("authorization"), basic(`${TOKEN_USER}:`));
    assert.equal(
      auth("/v1/chat/completions", "k")?.get("authorization"),
      `Bearer ${API_KEY}`,
      "api-key wins",
    );

    await eventually(() => up.requests.some((r) => r.path === "/v1/models"), "a probe reached the upstream");
    const probe = up.requests.find((r) => r.path === "/v1/models")!;
    assert.equal(probe.headers.get("authorization"), basic(`svc:${PASSWORD}`));
    assert.equal(gw.gateway.runtime().upstreams[0].health.healthy, true);

    const admin = { authorization: `Bearer ${ADMIN}` };
    const pages = [
      await fetch(`${gw.url}/metrics`),
      await fetch(`${gw.url}/v1/chat/status`),
      await fetch(`${gw.url}/v1/models`),
      await fetch(`${gw.url}/admin/config`, { headers: admin }),
      await fetch(`${gw.url}/admin/services/chat/instances`, { headers: admin }),
    ];
    const feed = await fetch(`${gw.url}/ui/api/feed`, { headers: admin });
    const reader = feed.body!.pipeThrough(new TextDecoderStream()).getReader();
    let console = "";
    while (!console.includes("event: tick")) console += (await reader.read()).value ?? "";
    await reader.cancel();
    const texts = [console, ...await Promise.all(pages.map((p) => p.text())), ...gw.logs];
    assert.ok(texts[4].includes("[redacted]@127.0.0.1"), "/admin/config shows where the credentials were");
    for (const text of texts) {
      for (const secret of SECRETS) {
        assert.ok(!text.includes(secret), `${secret} shown in: ${text.slice(0, 300)}`);
      }
    }
  } finally {
    ui.close();
    await gw.close();
    await up.close();
  }
});

Deno.test("the loader warns when an instance's api-key or authorization header overrides its base-url credentials", () => {
  const { warnings } = parseConfig(
    `model:
  services:
    chat:
      instances:
        - { name: a, base-url: "http://u:pw@127.0.0.1:1", api-key: k }
        - { name: b, base-url: "http://tok@127.0.0.1:1", headers: { Authorization: Bearer x } }
        - { name: c, base-url: "http://u:pw@127.0.0.1:1" }
`,
    { source: "x.yaml", env: {} },
  );
  const found = warnings.filter((w) => w.kind === "credentials");
  assert.deepEqual(found.map((w) => [w.line, w.message]), [
    [
      5,
      "model.services.chat.instances[0].base-url carries credentials (user:password@), but the instance's api-key is sent instead (line 5)",
    ],
    [
      6,
      "model.services.chat.instances[1].base-url carries credentials (user:password@), but the instance's Authorization header is sent instead (line 6)",
    ],
  ]);
});
