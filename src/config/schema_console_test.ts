import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./load.ts";

const ADMIN = "admin:\n  token: an-admin-token-of-32-characters!\n";
const parse = (yaml: string) => parseConfig(`model: {}\n${yaml}`, { source: "c.yaml", env: {} });

Deno.test("console: off by default, under /ui, data behind the admin token", () => {
  const { config } = parse("");
  assert.deepEqual(config.console, { enabled: false, path: "/ui", publicRead: false });
});

Deno.test("console: kebab-case keys, trailing slash dropped", () => {
  const { config } = parse(`${ADMIN}console:\n  enabled: true\n  path: /ops/\n  public-read: "true"\n`);
  assert.deepEqual(config.console, { enabled: true, path: "/ops", publicRead: true });
});

Deno.test("console: enabled without an admin token and without public-read is an error with its line", () => {
  assert.throws(
    () => parse("console:\n  enabled: true\n"),
    (e: unknown) =>
      e instanceof ConfigError && /console\.enabled needs the admin token/.test(e.message) &&
      /line 3/.test(e.message),
  );
  // With public-read the read-only views need no token: valid.
  assert.equal(parse("console: { enabled: true, public-read: true }\n").config.console.enabled, true);
});

Deno.test("console: a path under /v1 or over the admin prefix is refused", () => {
  assert.throws(
    () => parse(`${ADMIN}console: { enabled: true, path: /v1/ui }\n`),
    /console\.path must be a path/,
  );
  assert.throws(() => parse(`${ADMIN}console: { enabled: true, path: /admin }\n`), /must not overlap admin/);
  assert.throws(
    () => parse(`${ADMIN}console: { enabled: true, path: "ui" }\n`),
    /console\.path must be a path/,
  );
});

Deno.test("console: an unknown key is an error naming the keys valid there (a typo, not a JAiRouter key)", () => {
  assert.throws(
    () => parse(`${ADMIN}console: { enabled: true, colour: red }\n`),
    /console\.colour is an unknown key \(known here: enabled/,
  );
});
