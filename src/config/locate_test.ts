import assert from "node:assert/strict";
import { appendPath, readYaml } from "./locate.ts";

Deno.test("readYaml() records the written spelling and line of every normalised path", () => {
  const r = readYaml("model:\n  services:\n    img-gen:\n      instances:\n        - baseUrl: x\n", {});
  assert.deepEqual(r.value, { model: { services: { imgGen: { instances: [{ baseUrl: "x" }] } } } });
  assert.deepEqual(r.origins.locate(["model", "services", "imgGen", "instances", 0, "baseUrl"]), {
    written: "model.services.img-gen.instances[0].baseUrl",
    line: 5,
  });
  assert.deepEqual(r.origins.locate(["model", "services", "imgGen", "instances", 0, "weight"]), {
    written: "model.services.img-gen.instances[0].weight",
    line: 5,
  });
  assert.deepEqual(r.origins.locate(["server", "bodyLimit"]), { written: "server.body-limit" });
});

Deno.test("readYaml() skips foreign root sections without reading their placeholders", () => {
  const r = readYaml("spring:\n  name: ${spring.application.name}\nmodel: {}\n", {});
  assert.deepEqual(r.problems, []);
  assert.deepEqual(Object.keys(r.value as object), ["spring", "model"]);
});

Deno.test("readYaml() treats empty values as absent and keeps __proto__ as a plain key", () => {
  const r = readYaml("model:\n  adapter:\n  __proto__: { polluted: true }\n", {});
  const model = (r.value as { model: Record<string, unknown> }).model;
  assert.equal(model.adapter, undefined);
  assert.ok(Object.hasOwn(model, "__proto__"));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("readYaml() resolves aliases and reports circular ones", () => {
  const r = readYaml("model:\n  a: &x { k: 1 }\n  b: *x\n", {});
  assert.deepEqual(r.value, { model: { a: { k: 1 }, b: { k: 1 } } });
  const cyclic = readYaml("model: &x [ *x ]\n", {});
  assert.equal(cyclic.problems.length, 1);
});

Deno.test("appendPath() writes keys with dots and indexes with brackets", () => {
  assert.equal(appendPath(appendPath(appendPath("", "model"), "instances"), 2), "model.instances[2]");
});
