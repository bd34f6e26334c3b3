import assert from "node:assert/strict";
import { completionsSibling, effectivePath, joinUrl, pathEndsWith } from "./url.ts";

Deno.test("joinUrl() never doubles or drops the slash between base and path", () => {
  assert.equal(joinUrl("http://h:1", "/v1/x"), "http://h:1/v1/x");
  assert.equal(joinUrl("http://h:1/", "/v1/x"), "http://h:1/v1/x");
  assert.equal(joinUrl("http://h:1//", "v1/x"), "http://h:1/v1/x");
  assert.equal(joinUrl("http://h:1/prefix/", "/v1/x"), "http://h:1/prefix/v1/x");
});

Deno.test("effectivePath() prefers the configured path and maps chat paths for /v1/completions", () => {
  const t = (path?: string) => ({ baseUrl: "http://h", path, headers: {} });
  assert.equal(effectivePath({ route: "/v1/chat/completions", target: t() }, "/d"), "/d");
  assert.equal(effectivePath({ route: "/v1/chat/completions", target: t("/p") }, "/d"), "/p");
  assert.equal(
    effectivePath({ route: "/v1/completions", target: t("/x/chat/completions") }, "/d"),
    "/x/completions",
  );
  assert.equal(effectivePath({ route: "/v1/completions", target: t("/generate") }, "/d"), "/generate");
  assert.equal(completionsSibling("/v1/chat/completions/"), "/v1/chat/completions/");
});

Deno.test("pathEndsWith() matches on segment boundaries, ignoring trailing slash and query", () => {
  assert.ok(pathEndsWith("/api/embed", "/api/embed"));
  assert.ok(pathEndsWith("/api/embed/?x=1", "/api/embed"));
  assert.ok(pathEndsWith("/v1/score", "score"));
  assert.ok(!pathEndsWith("/v1/rescore", "score"));
  assert.ok(!pathEndsWith("/api/embeddings", "/api/embed"));
});
