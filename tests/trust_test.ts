/**
 * Trust at the edge, end to end: what an untrusted client claims about its address changes
 * nothing, and no client credential reaches an upstream that has its own, or any upstream when
 * the gateway checked it. A real gateway, a fake upstream that records headers, real sockets.
 */

import assert from "node:assert/strict";
import { postChat, withGateway } from "./fakes/gateway.ts";

const UPSTREAM_KEY = "sk-instance-own-7777";
const CLIENT_KEY = "sk-client-key-8888";

const chat = (url: string, headers: Record<string, string>, model = "m") =>
  postChat(url, { model, headers }).then(async (r) => ({ status: r.status, text: await r.text() }));

Deno.test("a spoofed X-Forwarded-For / X-Real-IP from an untrusted peer moves neither the per-IP limit, the logged IP nor the upstream's view", async () => {
  await withGateway((u) => `
model:
  health-check: { enabled: false }
  services:
    chat:
      rate-limit: { capacity: 2, rate: 0.001, scope: client-ip }
      instances:
        - { name: m, base-url: "${u}" }
`, async (gw, up) => {
    const spoof = (ip: string) => ({ "x-forwarded-for": ip, "x-real-ip": ip, "true-client-ip": ip });
    assert.equal((await chat(gw.url, spoof("1.1.1.1"))).status, 200);
    assert.equal((await chat(gw.url, spoof("2.2.2.2"))).status, 200);
    const third = await chat(gw.url, spoof("3.3.3.3"));
    assert.equal(third.status, 429, "one bucket for the real peer, whatever it claims");
    assert.equal(up.requests.length, 2);
    for (const r of up.requests) {
      assert.equal(r.headers.get("x-forwarded-for"), "127.0.0.1");
      assert.equal(r.headers.get("x-real-ip"), null);
      assert.equal(r.headers.get("true-client-ip"), null);
    }
    const access = gw.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "access");
    assert.equal(access.length, 3);
    for (const rec of access) assert.equal(rec.clientIp, "127.0.0.1");
  });
});

Deno.test("auth off: an instance with its own api-key never receives the client's Authorization, X-API-Key or auth.header-name (ours or JAiRouter's); one without still does", async () => {
  const auths = [
    "",
    "auth: { enabled: false, header-name: X-Custom-Key }",
    "jairouter:\n  security:\n    enabled: false\n    api-key: { header-name: X-Custom-Key }",
  ];
  for (const auth of auths) {
    await withGateway((u) => `
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "${u}", api-key: "${UPSTREAM_KEY}" }
        - { name: open, base-url: "${u}" }
${auth}
`, async (gw, up) => {
      const client = {
        authorization: `Bearer ${CLIENT_KEY}`,
        "x-api-key": CLIENT_KEY,
        "x-custom-key": CLIENT_KEY,
      };
      const res = await chat(gw.url, client);
      assert.equal(res.status, 200, res.text);
      const seen = up.requests[0].headers;
      assert.equal(seen.get("authorization"), `Bearer ${UPSTREAM_KEY}`);
      assert.equal(seen.get("x-api-key"), null);
      const custom = auth === "" ? CLIENT_KEY : null; // only a configured header-name is a credential
      assert.equal(seen.get("x-custom-key"), custom, `${auth}: the client's key stays out`);
      for (const [name, value] of seen) {
        if (name !== "x-custom-key") assert.ok(!value.includes(CLIENT_KEY), "no client credential upstream");
      }
      // Without a key of its own the instance gets what the client sent (auth is off).
      assert.equal((await chat(gw.url, client, "open")).status, 200);
      assert.equal(up.requests[1].headers.get("x-custom-key"), CLIENT_KEY);
      assert.equal(up.requests[1].headers.get("authorization"), `Bearer ${CLIENT_KEY}`);
    });
  }
});

Deno.test("auth on: an instance without a key of its own receives neither the client's Authorization nor its X-API-Key", async () => {
  await withGateway((u) => `
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "${u}" }
auth:
  keys:
    - { name: c, key: "${CLIENT_KEY}" }
`, async (gw, up) => {
    const variants: Record<string, string>[] = [{ authorization: `Bearer ${CLIENT_KEY}` }, {
      "x-api-key": CLIENT_KEY,
    }];
    for (const headers of variants) {
      assert.equal((await chat(gw.url, { ...headers, "x-other": "kept" })).status, 200);
    }
    assert.equal(up.requests.length, 2);
    for (const r of up.requests) {
      assert.equal(r.headers.get("authorization"), null);
      assert.equal(r.headers.get("x-api-key"), null);
      assert.equal(r.headers.get("x-other"), "kept");
    }
  });
});

Deno.test("a body naming model twice is refused with 400 before any upstream sees it (JSON and multipart)", async () => {
  await withGateway((u) => `
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: allowed, base-url: "${u}" }
        - { name: other, base-url: "${u}" }
    stt:
      instances:
        - { name: allowed, base-url: "${u}" }
auth:
  keys:
    - { name: c, key: "${CLIENT_KEY}", models: [allowed] }
`, async (gw, up) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` },
      body: '{"model":"other","messages":[],"model":"allowed"}',
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.error.code, "duplicate_model");
    assert.equal(body.error.param, "model");
    const form = new FormData();
    form.append("model", "other");
    form.append("model", "allowed");
    form.append("file", new Blob([new Uint8Array(8)]), "a.wav");
    const stt = await fetch(`${gw.url}/v1/audio/transcriptions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
      body: form,
    });
    assert.equal(stt.status, 400);
    assert.equal((await stt.json()).error.code, "duplicate_model");
    assert.equal(up.requests.length, 0);
  });
});
