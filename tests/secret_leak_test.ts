/**
 * No page a client can read shows a configured secret. Every GET route the app has — status pages,
 * `/v1/models`, `/metrics`, and whatever is mounted later (the console) — is read over a real
 * socket with `auth` off, the case where anyone can read them.
 */

import assert from "node:assert/strict";
import type { Hono } from "hono";
import type { AppEnv } from "../src/http/app.ts";
import { startGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";

const PASSWORD = "pw-in-base-url-4242";
const API_KEY = "sk-instance-key-4343";
const HEADER_TOKEN = "tok-instance-header-4444";
const SECRETS = [PASSWORD, API_KEY, HEADER_TOKEN, encodeURIComponent(PASSWORD)];

/** The concrete paths of an app's GET routes (`/x/*` read as `/x/`; parameterised ones skipped). */
function getPaths(app: Hono<AppEnv>): string[] {
  const paths = new Set<string>();
  for (const r of app.routes) {
    if (r.method !== "GET" && r.method !== "ALL") continue;
    if (r.path.includes(":")) continue;
    paths.add(r.path.replace(/\*$/, ""));
  }
  return [...paths];
}

Deno.test("no GET route (status pages, models, metrics, console) shows a base-url password, api-key or secret header", async () => {
  const up = startFakeUpstream({ name: "U" });
  let app: Hono<AppEnv> | undefined;
  const port = new URL(up.url).port;
  const gw = startGateway(
    `model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - name: m
          base-url: "http://gateway:${PASSWORD}@127.0.0.1:${port}"
          api-key: ${API_KEY}
          headers: { x-upstream-token: ${HEADER_TOKEN} }
    embedding:
      instances:
        - { name: e, base-url: "http://u:${PASSWORD}@127.0.0.1:${port}/", api-key: "${API_KEY}" }
`,
    { extend: (a) => void (app = a) },
  );
  try {
    assert.ok(app, "the extend hook saw the app");
    const paths = getPaths(app);
    for (const must of ["/v1/models", "/v1/chat/status", "/v1/embeddings/status", "/metrics"]) {
      assert.ok(paths.includes(must), `${must} is among the routes read`);
    }
    for (const path of paths) {
      const res = await fetch(`${gw.url}${path}`);
      const text = await res.text();
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `GET ${path} shows ${secret}`);
      for (const [name, value] of res.headers) {
        for (const secret of SECRETS) assert.ok(!value.includes(secret), `GET ${path} header ${name}`);
      }
    }
    const status = await (await fetch(`${gw.url}/v1/chat/status`)).json();
    assert.equal(status.instances[0].url, `http://[redacted]@127.0.0.1:${port}`);
    for (const line of gw.logs) for (const secret of SECRETS) assert.ok(!line.includes(secret), line);
  } finally {
    await gw.close();
    await up.close();
  }
});
