import assert from "node:assert/strict";
import { parseDocument } from "yaml";
import { GatewayError } from "../errors.ts";
import { instanceMap } from "./admin_edit.ts";

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
