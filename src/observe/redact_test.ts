import assert from "node:assert/strict";
import { isSensitiveKey, maskString, prepareSecrets, redact } from "./redact.ts";

Deno.test("isSensitiveKey() matches credential names in any case or separator style", () => {
  for (
    const k of [
      "authorization",
      "Proxy-Authorization",
      "api-key",
      "apiKey",
      "api_key",
      "X-API-KEY",
      "token",
      "access_token",
      "refreshToken",
      "password",
      "db.password",
      "secret",
      "clientSecret",
      "Set-Cookie",
      "apiKeys",
    ]
  ) assert.equal(isSensitiveKey(k), true, k);
  for (const k of ["tokensIn", "tokensOut", "max_tokens", "model", "keyId", "route", "tokenizer"]) {
    assert.equal(isSensitiveKey(k), false, k);
  }
});

Deno.test("prepareSecrets() drops short and duplicate secrets, adds encoded forms, sorts longest first", () => {
  assert.deepEqual(prepareSecrets(["abc", "abcd", "abcd", "abcdef"]), ["abcdef", "abcd"]);
  assert.deepEqual(prepareSecrets(["a/b+c"]), ["a%2Fb%2Bc", "a/b+c"]);
  assert.deepEqual(prepareSecrets(undefined), []);
});

Deno.test("maskString() masks a longer secret whole even when it contains a shorter one", () => {
  const secrets = prepareSecrets(["key-1234", "key-1234-extended"]);
  assert.equal(maskString("a key-1234-extended b key-1234", secrets), "a [redacted] b [redacted]");
});

Deno.test("maskString() masks a percent-encoded configured secret", () => {
  const secrets = prepareSecrets(["p@ss/word"]);
  assert.equal(maskString("http://h/?q=p%40ss%2Fword", secrets), "http://h/?q=[redacted]");
});

Deno.test("maskString() leaves ordinary text alone", () => {
  const s = "POST /v1/chat/completions 200 in 12ms (model=qwen, stream=true)";
  assert.equal(maskString(s, prepareSecrets(["not-present"])), s);
});

Deno.test("redact() keeps siblings that share an object and returns JSON-safe data", () => {
  const shared = { a: 1 };
  const out = redact(
    { x: shared, y: shared, z: undefined, f: () => 1, n: Number.NaN, s: new Set(["q"]) },
    [],
  );
  assert.deepEqual(out, { x: { a: 1 }, y: { a: 1 }, z: null, f: "[function]", n: "NaN", s: ["q"] });
  assert.doesNotThrow(() => JSON.stringify(out));
});

Deno.test("redact() stops at depth 8", () => {
  let deep: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < 12; i++) deep = { d: deep };
  assert.match(JSON.stringify(redact(deep, [])), /"\[too deep\]"/);
});

Deno.test("maskString() masks a URL's whole userinfo: a username alone is often a token", () => {
  const out = maskString("GET http://sk-tok3n-9@127.0.0.1:1/v1 and https://a:b@c@h.test/x?m=a@b", []);
  assert.equal(out, "GET http://[redacted]@127.0.0.1:1/v1 and https://[redacted]@h.test/x?m=a@b");
});
