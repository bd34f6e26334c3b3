import assert from "node:assert/strict";
import { interpolate } from "./interpolate.ts";

const env = { HOST: "127.0.0.1", EMPTY: "", "spring.port": "1" };
const value = (text: string) => {
  const r = interpolate(text, env);
  assert.ok(r.ok, `expected ${text} to interpolate`);
  return r.value;
};
const error = (text: string) => {
  const r = interpolate(text, env);
  assert.ok(!r.ok, `expected ${text} to fail`);
  return r.error;
};

Deno.test("interpolate() fills ${VAR} and leaves text without placeholders alone", () => {
  assert.equal(value("http://${HOST}:80"), "http://127.0.0.1:80");
  assert.equal(value("${HOST}${HOST}"), "127.0.0.1127.0.0.1");
  assert.equal(value("plain $HOST {HOST}"), "plain $HOST {HOST}");
});

Deno.test("interpolate() uses ${VAR:-default} when unset or empty, ${VAR:default} only when unset", () => {
  assert.equal(value("${MISSING:-d}"), "d");
  assert.equal(value("${EMPTY:-d}"), "d");
  assert.equal(value("${HOST:-d}"), "127.0.0.1");
  assert.equal(value("${MISSING:d}"), "d");
  assert.equal(value("${EMPTY:d}"), "");
  assert.equal(value("${MISSING:}"), "");
  assert.equal(value("${MISSING:http://x:1}"), "http://x:1", "a Spring default may contain colons");
});

Deno.test("interpolate() treats $${...} as a literal ${...}", () => {
  assert.equal(value("$${HOST}"), "${HOST}");
  assert.equal(value("a $${MISSING} b ${HOST}"), "a ${MISSING} b 127.0.0.1");
});

Deno.test("interpolate() explains missing variables and malformed placeholders", () => {
  assert.equal(error("${MISSING}"), "refers to ${MISSING}, which is not set");
  assert.equal(error("x ${HOST"), 'has an unclosed "${" in "x ${HOST"');
  assert.equal(error("${}"), 'has an invalid placeholder "${}" (expected ${NAME} or ${NAME:-default})');
  assert.equal(value("${spring.port}"), "1");
});
