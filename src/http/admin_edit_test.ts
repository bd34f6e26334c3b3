import assert from "node:assert/strict";
import { type Document, parseDocument } from "yaml";
import { interpolate } from "../config/interpolate.ts";
import { ConfigError, parseConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { updateYamlFile } from "../config/write.ts";
import { GatewayError } from "../errors.ts";
import type { ServiceKind } from "../types.ts";
import { assignMap, instanceMap, literal, removeInstance, setServiceBlock } from "./admin_edit.ts";

const REPLICAS = `model:
  services:
    chat:
      instances:
        - { name: m, base-url: "http://127.0.0.1:1/", instance-id: gpu-a }
        - { name: m, base-url: "http://127.0.0.1:2" }
        - { name: "\${MODEL}", base-url: "\${URL}" }
`;

const conflictWith = (pattern: RegExp) => (err: unknown) =>
  err instanceof GatewayError && err.status === 409 && pattern.test(err.message);

Deno.test("instanceMap() checks the instance-id, name and base-url written at the index, not only the name", () => {
  const doc = parseDocument(REPLICAS);
  const a = { id: "gpu-a", name: "m", baseUrl: "http://127.0.0.1:1" };
  const b = { id: "chat/m@http://127.0.0.1:2", name: "m", baseUrl: "http://127.0.0.1:2" };
  assert.equal(
    instanceMap(doc, "chat", 0, a).get("instance-id"),
    "gpu-a",
    "a trailing / is not a difference",
  );
  assert.equal(instanceMap(doc, "chat", 1, b).get("base-url"), "http://127.0.0.1:2");
  // Same name, another replica: the old check (name only) let these through.
  assert.throws(
    () => instanceMap(doc, "chat", 1, { ...b, baseUrl: "http://127.0.0.1:3" }),
    conflictWith(/base-url/),
  );
  assert.throws(
    () => instanceMap(doc, "chat", 0, { ...a, id: "gpu-b" }),
    conflictWith(/instance-id "gpu-a"/),
  );
  assert.throws(() => instanceMap(doc, "chat", 0, { ...a, name: "n" }), conflictWith(/name "m"/));
});

Deno.test("instanceMap() does not compare values the loader fills from ${VAR}", () => {
  const doc = parseDocument(REPLICAS);
  const filled = { id: "chat/llama@http://10.0.0.1", name: "llama", baseUrl: "http://10.0.0.1" };
  assert.ok(instanceMap(doc, "chat", 2, filled));
  assert.throws(
    () => instanceMap(doc, "chat", 3, filled),
    (err: unknown) => err instanceof GatewayError && err.status === 404,
  );
});

/** Applies `mutate` to `yaml` through the admin write-back; the loaded result and the text written. */
async function edited(yaml: string, mutate: (doc: Document) => void) {
  const dir = await Deno.makeTempDir({ prefix: "dairouter-admin-edit-" });
  const file = `${dir}/dairouter.yaml`;
  try {
    await Deno.writeTextFile(file, yaml);
    const { config } = await updateYamlFile(file, mutate);
    return { config, text: await Deno.readTextFile(file) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const shown = (config: Config, kind: ServiceKind = "chat") =>
  config.services[kind].instances.map((i) => `${i.name}: ${i.weight} ${JSON.stringify(i.headers ?? {})}`);

const identity = (config: Config, index: number) => config.services.chat.instances[index];

const SHARED = `model:
  services:
    chat:
      instances:
        - name: a
          base-url: http://127.0.0.1:1
          weight: &w 3
          headers: &h { X-Team: blue }
        - name: b
          base-url: http://127.0.0.1:2
          weight: *w # same weight
          headers: *h
        - name: c
          base-url: http://127.0.0.1:3
          weight: *w
          headers: *h
`;
const before = parseConfig(SHARED, { source: "t.yaml", env: {} }).config;

Deno.test("assignMap() on the instance holding the anchors changes that instance only; the anchors move on", async () => {
  const { config, text } = await edited(SHARED, (doc) => {
    const a = instanceMap(doc, "chat", 0, identity(before, 0));
    assignMap(doc, a, { weight: 0, headers: { "X-Team": "red" } }, "merge");
  });
  assert.deepEqual(shown(config), [
    'a: 0 {"X-Team":"red"}',
    'b: 3 {"X-Team":"blue"}',
    'c: 3 {"X-Team":"blue"}',
  ]);
  // b now holds the anchors (with its comment), c still uses them: the file stays shared where it was.
  assert.match(text, /- name: b\n.*\n\s+weight: &w 3 # same weight\n\s+headers: &h \{ X-Team: blue \}\n/);
  assert.match(text, /- name: c\n.*\n\s+weight: \*w\n\s+headers: \*h\n/);
});

Deno.test("assignMap() on an instance using an alias gives it its own copy; a merge patch keeps the other keys", async () => {
  const { config, text } = await edited(SHARED, (doc) => {
    const b = instanceMap(doc, "chat", 1, identity(before, 1));
    assignMap(doc, b, { weight: 7, headers: { "X-Extra": "1" } }, "merge");
  });
  assert.deepEqual(shown(config), [
    'a: 3 {"X-Team":"blue"}',
    'b: 7 {"X-Team":"blue","X-Extra":"1"}',
    'c: 3 {"X-Team":"blue"}',
  ]);
  assert.match(text, /weight: 7 # same weight\n\s+headers: \{ X-Team: blue, X-Extra: "1" \}\n/);
});

Deno.test("assignMap() replace, a null in a merge patch and removeInstance() leave the other uses of an anchor intact", async () => {
  const replaced = await edited(SHARED, (doc) => {
    const a = instanceMap(doc, "chat", 0, identity(before, 0));
    assignMap(doc, a, { name: "a", baseUrl: "http://127.0.0.1:1" }, "replace");
  });
  assert.deepEqual(shown(replaced.config), ["a: 1 {}", 'b: 3 {"X-Team":"blue"}', 'c: 3 {"X-Team":"blue"}']);
  const nulled = await edited(SHARED, (doc) => {
    assignMap(
      doc,
      instanceMap(doc, "chat", 0, identity(before, 0)),
      { weight: null, headers: null },
      "merge",
    );
  });
  assert.deepEqual(shown(nulled.config), ["a: 1 {}", 'b: 3 {"X-Team":"blue"}', 'c: 3 {"X-Team":"blue"}']);
  // A value of another shape replaces the node (the loader would refuse this one): the anchor is
  // handed over first, so the document still reads, and reads the same for b and c.
  const doc = parseDocument(SHARED);
  assignMap(doc, instanceMap(doc, "chat", 0, identity(before, 0)), { headers: ["x"], weight: [] }, "merge");
  const items = parseDocument(doc.toString()).toJS().model.services.chat.instances;
  assert.deepEqual(items.map((i: { weight: unknown; headers: unknown }) => [i.weight, i.headers]), [
    [[], ["x"]],
    [3, { "X-Team": "blue" }],
    [3, { "X-Team": "blue" }],
  ]);
  const removed = await edited(SHARED, (doc) => {
    instanceMap(doc, "chat", 0, identity(before, 0));
    removeInstance(doc, "chat", 0);
  });
  assert.deepEqual(shown(removed.config), ['b: 3 {"X-Team":"blue"}', 'c: 3 {"X-Team":"blue"}']);
});

Deno.test("assignMap() through merge keys: an inherited mapping is copied before a merge patch, the defaults stay", async () => {
  const yaml = `x-defaults: &d
  weight: 2
  headers: { X-Team: blue, X-Tenant: t1 }
model:
  services:
    chat:
      instances:
        - &first
          <<: *d
          name: a
          base-url: http://127.0.0.1:1
        - <<: [*first, *d]
          name: b
          base-url: http://127.0.0.1:2
`;
  const start = parseConfig(yaml, { source: "t.yaml", env: {} }).config;
  const { config } = await edited(yaml, (doc) => {
    assignMap(doc, instanceMap(doc, "chat", 0, identity(start, 0)), {
      weight: 5,
      headers: { "X-Team": "red" },
    }, "merge");
  });
  assert.deepEqual(shown(config), [
    'a: 5 {"X-Team":"red","X-Tenant":"t1"}',
    'b: 2 {"X-Team":"blue","X-Tenant":"t1"}',
  ]);
});

Deno.test("setServiceBlock() on a block another service aliases changes that service's block only", async () => {
  const yaml = `model:
  services:
    chat:
      rate-limit: &rl { enabled: true, algorithm: token-bucket, capacity: 10, rate: 1 }
      instances: [{ name: a, base-url: "http://127.0.0.1:1" }]
    embedding:
      rate-limit: *rl
      instances: [{ name: e, base-url: "http://127.0.0.1:2" }]
`;
  const { config } = await edited(yaml, (doc) => {
    setServiceBlock(doc, "chat", "rate-limit", {
      enabled: true,
      algorithm: "token-bucket",
      capacity: 99,
      rate: 1,
    });
  });
  assert.equal(config.services.chat.rateLimit?.capacity, 99);
  assert.equal(config.services.embedding.rateLimit?.capacity, 10);
});

Deno.test("literal() text reads back unchanged through interpolate(), whatever $, { and } it holds", () => {
  const env = { A: "env-a", SECRET: "s3cret", "a.b": "env-ab" };
  const alphabet = ["$", "$", "{", "}", ":", "-", "A", "SECRET", "a.b", " "];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const samples = ["${SECRET}", "$${SECRET}", "$$${SECRET}", "${A:-${SECRET}}", "${", "}${A}{", "$", "$$"];
  for (let i = 0; i < 5000; i++) {
    samples.push(
      Array.from({ length: Math.floor(next() * 12) }, () => alphabet[Math.floor(next() * 10)]).join(""),
    );
  }
  for (const text of samples) {
    const read = interpolate(literal(text), env);
    assert.ok(read.ok, `${JSON.stringify(text)}: ${read.ok ? "" : read.error}`);
    assert.equal(read.value, text, JSON.stringify(literal(text)));
  }
});

const PLACEHOLDERS = `model:
  services:
    chat:
      instances:
        - name: m
          base-url: http://127.0.0.1:1
          api-key: \${UPSTREAM_KEY} # the operator's placeholder
`;
const ENV = { UPSTREAM_KEY: "sk-upstream", SECRET: "s3cret-from-env" };

/** Like {@linkcode edited}, with `ENV` as the gateway's environment. */
async function editedWithEnv(mutate: (doc: Document) => void) {
  const dir = await Deno.makeTempDir({ prefix: "dairouter-admin-edit-" });
  const file = `${dir}/dairouter.yaml`;
  try {
    await Deno.writeTextFile(file, PLACEHOLDERS);
    const { config } = await updateYamlFile(file, mutate, { env: ENV });
    return { config, text: await Deno.readTextFile(file) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("assignMap() writes values as literal text: a ${VAR} sent is never filled from the environment", async () => {
  const start = parseConfig(PLACEHOLDERS, { source: "t.yaml", env: ENV }).config;
  const { config, text } = await editedWithEnv((doc) => {
    assignMap(doc, instanceMap(doc, "chat", 0, identity(start, 0)), {
      name: "${SECRET}",
      upstreamModel: "x-$${SECRET}",
      headers: { "X-Team": "${SECRET:-none}" },
    }, "merge");
  });
  const inst = config.services.chat.instances[0];
  assert.equal(inst.name, "${SECRET}");
  assert.equal(inst.upstreamModel, "x-$${SECRET}");
  assert.deepEqual(inst.headers, { "X-Team": "${SECRET:-none}" });
  assert.equal(inst.apiKey, "sk-upstream", "the operator's own placeholder still is");
  assert.ok(!JSON.stringify(config).includes(ENV.SECRET));
  assert.match(text, /name: \$\$\{SECRET\}\n/);
  assert.match(text, /api-key: \$\{UPSTREAM_KEY\} # the operator's placeholder/);
});

Deno.test("a refused admin value is quoted as sent in the error, never with the environment's value", async () => {
  const start = parseConfig(PLACEHOLDERS, { source: "t.yaml", env: ENV }).config;
  for (const change of [{ baseUrl: "${SECRET}" }, { weight: "${SECRET}" }, { path: "${SECRET}" }]) {
    await assert.rejects(
      editedWithEnv((doc) =>
        assignMap(doc, instanceMap(doc, "chat", 0, identity(start, 0)), change, "merge")
      ),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.ok(!err.message.includes(ENV.SECRET), err.message);
        assert.ok(err.message.includes("${SECRET"), err.message);
        return true;
      },
    );
  }
});
