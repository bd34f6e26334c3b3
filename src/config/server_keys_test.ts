import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./load.ts";

const INSTANCES =
  "model:\n  services:\n    chat:\n      instances: [{ name: m, base-url: 'http://127.0.0.1:1' }]\n";
const load = (server: string) =>
  parseConfig(`server:\n${server}\n${INSTANCES}`, { source: "x.yaml", env: {} });

Deno.test("parseConfig() reads the slow-client keys of server (durations, sizes, counts)", () => {
  const { config } = load(
    "  body-idle-timeout: 5s\n  body-timeout: 2m\n  max-pending-body-bytes: 64mb\n" +
      "  header-timeout: 10s\n  max-connections: 5000",
  );
  assert.equal(config.server.bodyIdleTimeoutMs, 5000);
  assert.equal(config.server.bodyTimeoutMs, 120_000);
  assert.equal(config.server.maxPendingBodyBytes, 64 * 1024 * 1024);
  assert.equal(config.server.headerTimeoutMs, 10_000);
  assert.equal(config.server.maxConnections, 5000);
});

Deno.test("parseConfig() keeps the default pending-bytes cap at least as large as body-limit", () => {
  assert.equal(load("  body-limit: 512mb").config.server.maxPendingBodyBytes, 512 * 1024 * 1024);
});

Deno.test("parseConfig() refuses a pending-bytes cap below body-limit and a zero body timeout, with their lines", () => {
  for (
    const [text, key, line] of [
      ["  body-limit: 10mb\n  max-pending-body-bytes: 1mb", "maxPendingBodyBytes", 3],
      ["  body-idle-timeout: 0", "bodyIdleTimeout", 2],
      ["  max-connections: -1", "maxConnections", 2],
    ] as const
  ) {
    try {
      load(text);
      assert.fail(`accepted ${text}`);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.line, line, err.message);
      assert.match(err.path ?? "", new RegExp(key.replace(/[A-Z]/g, (c) => `-?${c.toLowerCase()}`), "i"));
    }
  }
});
