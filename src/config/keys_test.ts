import assert from "node:assert/strict";
import { camelize, kebabize, keyModeAt, normalizeKey, readPolicy } from "./keys.ts";

Deno.test("camelize() turns kebab-case and snake_case into camelCase and keeps camelCase", () => {
  assert.deepEqual(
    ["base-url", "base_url", "baseUrl", "half-open-max-calls", "img-gen", "timeout", "client-ip-enable"].map(
      camelize,
    ),
    ["baseUrl", "baseUrl", "baseUrl", "halfOpenMaxCalls", "imgGen", "timeout", "clientIpEnable"],
  );
});

Deno.test("kebabize() spells a camelCase key the JAiRouter way", () => {
  assert.deepEqual(["baseUrl", "halfOpenMaxCalls", "port"].map(kebabize), [
    "base-url",
    "half-open-max-calls",
    "port",
  ]);
});

Deno.test("normalizeKey() keeps header names and fallback bodies verbatim", () => {
  const inst = ["model", "services", "chat", "instances", 0];
  assert.equal(normalizeKey([...inst, "headers"], "X-Api-Key"), "X-Api-Key");
  assert.equal(normalizeKey(["model", "fallback", "response", "body"], "finish-reason"), "finish-reason");
  assert.equal(normalizeKey(["model", "fallback", "response", "body", "error"], "error-code"), "error-code");
  assert.equal(normalizeKey(["model", "fallback", "response"], "body"), "body");
  assert.equal(normalizeKey(inst, "api-key"), "apiKey");
  assert.equal(keyModeAt(["model", "services"]), "normalize");
});

Deno.test("normalizeKey() maps service aliases only directly under model.services", () => {
  assert.equal(normalizeKey(["model", "services"], "embeddings"), "embedding");
  assert.equal(normalizeKey(["model", "services"], "img-gen"), "imgGen");
  assert.equal(normalizeKey(["model", "services"], "image-edit"), "imgEdit");
  assert.equal(normalizeKey(["model"], "embeddings"), "embeddings");
});

Deno.test("readPolicy() records foreign root sections and reads only the mapped part of jairouter:", () => {
  assert.deepEqual(
    [["spring"], ["logging"], ["model"], ["server"], ["log"], ["state"], ["model", "spring"]].map(readPolicy),
    ["record", "record", "read", "read", "read", "read", "read"],
  );
  assert.deepEqual(
    [
      ["jairouter"],
      ["jairouter", "tracing"],
      ["jairouter", "security", "audit"],
      ["jairouter", "security", "apiKey", "keys", 0, "keyValue"],
      ["jairouter", "security", "jwt", "enabled"],
      ["jairouter", "security", "jwt", "secret"],
      ["jairouter", "security", "sanitization", "response", "enabled"],
      ["jairouter", "security", "sanitization", "response", "maskingChar"],
    ].map(readPolicy),
    ["read", "record", "record", "read", "read", "skip", "read", "skip"],
  );
});
