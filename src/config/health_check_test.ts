import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./load.ts";

const load = (text: string) => parseConfig(text, { source: "x.yaml", env: {} });

function failure(text: string): ConfigError {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err;
  }
  assert.fail("parseConfig() did not throw");
}

Deno.test("health-check probe keys inherit key by key: instance → service → global → default", () => {
  const { config } = load([
    "model:",
    "  health-check: { interval: 5s, method: head, expect-status: 2xx }",
    "  services:",
    "    chat:",
    "      health-check: { path: /health, timeout: 1s }",
    "      instances:",
    "        - { name: a, base-url: 'http://127.0.0.1:1' }",
    "        - name: b",
    "          base-url: 'http://127.0.0.1:2'",
    "          health-check: { path: /v1/models, expect-status: [200, '401-403'], unhealthy-threshold: 4 }",
    "        - name: c",
    "          base-url: 'http://127.0.0.1:3'",
    "          health-check: { type: TCP }",
    "        - name: d",
    "          base-url: 'http://127.0.0.1:4'",
    "          health-check: { type: none }",
    "    embedding:",
    "      instances:",
    "        - { name: e, base-url: 'http://127.0.0.1:5' }",
  ].join("\n"));
  const [a, b, c, d] = config.services.chat.instances.map((i) => i.health);
  assert.deepEqual(a, {
    enabled: true,
    intervalMs: 5000,
    timeoutMs: 1000,
    type: "http",
    path: "/health",
    method: "HEAD",
    expectStatus: [[200, 299]],
    healthyThreshold: 1,
    unhealthyThreshold: 2,
    passiveFailures: 3,
  });
  assert.deepEqual(
    [b.path, b.method, b.expectStatus, b.unhealthyThreshold, b.timeoutMs],
    ["/v1/models", "HEAD", [[200, 200], [401, 403]], 4, 1000],
  );
  assert.equal(c.type, "tcp");
  assert.equal(d.type, "none");
  assert.equal(config.services.chat.health.path, "/health", "the service's own block, for its prober");
  const e = config.services.embedding.instances[0].health;
  assert.deepEqual([e.path, e.method, e.timeoutMs], [undefined, "HEAD", 3000]);
});

/** One chat instance whose `health-check` (on line 7) is `block`. */
const instanceWith = (block: string) =>
  [
    "model:",
    "  services:",
    "    chat:",
    "      instances:",
    "        - name: a",
    "          base-url: 'http://127.0.0.1:1'",
    `          health-check: ${block}`,
  ].join("\n");

Deno.test("health-check errors name the key and line: bad expect-status, type, method, path", () => {
  const at = (block: string) => failure(instanceWith(block)).message;
  assert.match(
    at("{ expect-status: '299-200' }"),
    /health-check\.expect-status range must run low to high.*line 7/,
  );
  assert.match(at("{ expect-status: ok }"), /expect-status must be a status \(200\)/);
  assert.match(at("{ type: ping }"), /health-check\.type/);
  assert.match(at("{ method: DELETE }"), /health-check\.method/);
  assert.match(at("{ path: health }"), /health-check\.path must start with "\/", received "health"/);
});

Deno.test("health-check interval is a service key: an instance-level interval is not accepted", () => {
  // Probes of one service run in one round; a per-instance interval could not be honoured.
  let message = "";
  try {
    const { warnings } = load(instanceWith("{ interval: 1s }"));
    message = warnings.map((w) => w.message).join("\n");
  } catch (err) {
    message = (err as Error).message;
  }
  assert.match(message, /interval/);
});
