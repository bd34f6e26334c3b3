import assert from "node:assert/strict";
import { sha256Hex } from "./access.ts";
import { ConfigError, loadConfigFile, parseConfig } from "./load.ts";
import { redactConfig } from "./redact.ts";

const MODEL = `model:
  services:
    chat:
      instances:
        - { name: llama3, base-url: "http://127.0.0.1:1" }
`;
const load = (text: string, env: Record<string, string> = {}) =>
  parseConfig(MODEL + text, { source: "x.yaml", env });

const configError = (text: string, env: Record<string, string> = {}): ConfigError => {
  try {
    load(text, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  throw new Error("expected a ConfigError");
};

Deno.test("auth keys from key, ${ENV} and key-sha256 are kept only as SHA-256 digests", () => {
  const { config, warnings } = load(
    `auth:
  keys:
    - { name: a, key: "sk-plain-0001" }
    - { name: b, key: "\${CLIENT_KEY}", models: [llama3, llama3] }
    - name: c
      key-sha256: ${sha256Hex("sk-hashed-0003").toUpperCase()}
      rate-limit: { capacity: 2, rate: 1 }
`,
    { CLIENT_KEY: "sk-from-env-0002" },
  );
  assert.deepEqual(warnings, []);
  assert.equal(config.auth.enabled, true);
  assert.deepEqual(config.auth.keys.map((k) => k.keySha256), [
    sha256Hex("sk-plain-0001"),
    sha256Hex("sk-from-env-0002"),
    sha256Hex("sk-hashed-0003"),
  ]);
  assert.deepEqual(config.auth.keys[1].models, ["llama3"]);
  assert.equal(config.auth.keys[0].models, undefined);
  assert.equal(config.auth.keys[2].rateLimit?.scope, "api-key");
  assert.equal(config.auth.keys[2].rateLimit?.capacity, 2);
  const text = JSON.stringify(config);
  for (const key of ["sk-plain-0001", "sk-from-env-0002"]) assert.ok(!text.includes(key));
});

Deno.test("without auth or admin blocks, auth is off and the admin API is off at /admin", () => {
  const { config } = load("");
  assert.deepEqual(config.auth, { enabled: false, keys: [] });
  assert.deepEqual(config.admin, { enabled: false, pathPrefix: "/admin" });
});

Deno.test("loadConfigFile() reads key-file relative to the config file and trims its newline", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/keys`);
    await Deno.writeTextFile(`${dir}/keys/ci.key`, "sk-file-key-0004\n");
    await Deno.writeTextFile(
      `${dir}/gw.yaml`,
      `${MODEL}auth:\n  keys:\n    - { name: ci, key-file: keys/ci.key }\n`,
    );
    const { config } = await loadConfigFile(`${dir}/gw.yaml`, {});
    assert.equal(config.auth.keys[0].keySha256, sha256Hex("sk-file-key-0004"));

    await Deno.writeTextFile(`${dir}/keys/ci.key`, "\n");
    await assert.rejects(
      loadConfigFile(`${dir}/gw.yaml`, {}),
      /auth\.keys\[0\]\.key-file names an empty file/,
    );
    await Deno.remove(`${dir}/keys/ci.key`);
    await assert.rejects(loadConfigFile(`${dir}/gw.yaml`, {}), /auth\.keys\[0\]\.key-file cannot be read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseConfig() stays pure: a key-file without a reader is a ConfigError", () => {
  const err = configError("auth:\n  keys:\n    - { name: ci, key-file: /etc/dairouter/ci.key }\n");
  assert.match(err.message, /key-file cannot be read: no file reader was given/);
});

Deno.test("bad keys are ConfigErrors that never quote the key", () => {
  const err = configError(`auth:
  keys:
    - { name: a, key: "short7!" }
    - { name: a, key: "sk-long-enough-1" }
    - { name: b, key: "sk-long-enough-1" }
    - { name: c, key: "sk-long-enough-2", key-sha256: ${sha256Hex("x")} }
    - { name: d, key-sha256: "not-hex" }
`);
  assert.ok(!err.message.includes("short7!") && !err.message.includes("sk-long-enough"), err.message);
  assert.match(err.message, /auth\.keys\[0\]\.key must be at least 8 characters long/);
  assert.match(err.message, /auth\.keys\[3\] must set exactly one of key, key-file or key-sha256, found 2/);
  assert.match(err.message, /auth\.keys\[4\]\.key-sha256 must be 64 hexadecimal digits/);
  const dup = configError(`auth:
  keys:
    - { name: a, key: "sk-long-enough-1" }
    - { name: a, key: "sk-long-enough-2" }
    - { name: b, key: "sk-long-enough-1" }
`);
  assert.match(dup.message, /auth\.keys\[1\]\.name is already the name of auth\.keys\[0\]/);
  assert.match(dup.message, /auth\.keys\[2\] has the same key as auth\.keys\[0\]/);
});

Deno.test("auth enabled without keys refuses every client (a warning, so revoking the last key works); a disabled block is not even read", () => {
  const locked = load("auth: { enabled: true }\n");
  assert.deepEqual(locked.config.auth, { enabled: true, keys: [] });
  assert.deepEqual(locked.warnings.map((w) => [w.kind, w.message]), [[
    "no-key",
    "auth.keys lists no key: every client is refused (line 6)",
  ]]);
  const { config } = load("auth:\n  enabled: false\n  keys:\n    - { name: a, key: '${UNSET:-}' }\n");
  assert.deepEqual(config.auth, { enabled: false, keys: [] });
});

Deno.test("a key allowing a model no instance serves is a warning, not an error", () => {
  const { warnings } = load("auth:\n  keys:\n    - { name: a, key: sk-abcdefgh, models: [llama3, gpt-5] }\n");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, /auth\.keys\[0\]\.models\[1\] names "gpt-5", which no instance serves/);
});

Deno.test("admin: a written block is on, its token is hashed, prefix and listen are parsed", () => {
  const token = "admin-token-0123456789";
  const { config } = load(
    `admin:\n  token: \${ADMIN_TOKEN}\n  path-prefix: /ops/admin/\n  listen: "[::1]:9091"\n`,
    { ADMIN_TOKEN: token },
  );
  assert.deepEqual(config.admin, {
    enabled: true,
    tokenSha256: sha256Hex(token),
    pathPrefix: "/ops/admin",
    listen: { host: "::1", port: 9091 },
  });
  assert.ok(!JSON.stringify(config).includes(token));
  const off = load("admin:\n  enabled: false\n  token: ${ADMIN_TOKEN:-}\n").config.admin;
  assert.deepEqual(off, { enabled: false, pathPrefix: "/admin" });
});

Deno.test("admin: missing or short token, a reserved prefix and a bad listen address are errors", () => {
  assert.match(configError("admin: { path-prefix: /admin }\n").message, /admin\.token is required/);
  const short = configError("admin: { token: tiny-secret }\n");
  assert.ok(!short.message.includes("tiny-secret"));
  assert.match(short.message, /admin\.token must be at least 16 characters long/);
  const err = configError(
    "admin: { token: admin-token-0123456789, path-prefix: /v1/admin, listen: 'h:99999' }\n",
  );
  assert.match(err.message, /admin\.path-prefix must be a path such as "\/admin", outside \/v1/);
  assert.match(err.message, /admin\.listen must be "host:port"/);
});

Deno.test("redactConfig() hides the digests of client keys and of the admin token", () => {
  const { config } = load(
    "auth:\n  keys:\n    - { name: a, key: sk-abcdefgh }\nadmin:\n  token: admin-token-0123456789\n",
  );
  const shown = JSON.stringify(redactConfig(config));
  assert.ok(
    !shown.includes(sha256Hex("sk-abcdefgh")) && !shown.includes(sha256Hex("admin-token-0123456789")),
  );
  assert.match(shown, /"keySha256":"\[redacted\]"/);
});
