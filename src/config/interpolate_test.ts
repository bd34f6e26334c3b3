import assert from "node:assert/strict";
import { interpolate, MAX_PLACEHOLDER_DEPTH } from "./interpolate.ts";

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

/** `[text, env, expected]`: a value, or `{ error }`. */
type Case = readonly [string, Record<string, string>, string | { error: string }];

const NESTED: readonly Case[] = [
  // The reviewer's repros: the first `}` used to end the placeholder.
  ["${TOK:${TOK2:secret}}", {}, "secret"],
  ["${TOK:${TOK2:secret}}", { TOK2: "two" }, "two"],
  ["${TOK:${TOK2:secret}}", { TOK: "one", TOK2: "two" }, "one"],
  ["${A:${B:http://127.0.0.1:1}}", {}, "http://127.0.0.1:1"],
  ["${A:${B:http://127.0.0.1:1}}/v1", { B: "http://b" }, "http://b/v1"],
  // Three deep, and text around and between them.
  ["<${A:${B:${C:c}}}>", {}, "<c>"],
  ["${A:x${B:b}y}|${C:${D:d}}", { D: "" }, "xby|"],
  ["${A:x${B:b}y}|${C:-${D:-d}}", { D: "" }, "xby|d"],
  // A name built from a placeholder.
  ["${URL_${SITE}}", { SITE: "EU", URL_EU: "http://eu" }, "http://eu"],
  ["${URL_${SITE:-US}:none}", {}, "none"],
  ["${URL_${SITE:-US}:none}", { URL_US: "http://us" }, "http://us"],
  // The name ends at the first colon outside nested placeholders.
  ["${${N:A}:d}", { A: "a" }, "a"],
  ["${${N:A}:d}", {}, "d"],
  // A default is filled only when used: an unset variable in an unused one is no error.
  ["${HOST:${MISSING}}", { HOST: "h" }, "h"],
  ["${HOST:-${MISSING}}", { HOST: "h" }, "h"],
  // Plain braces inside a placeholder are counted, as Spring does.
  ["${MISSING:{}}", {}, "{}"],
  ['${MISSING:{"a":{"b":1}}}', {}, '{"a":{"b":1}}'],
  ["${SET:{}}", { SET: "v" }, "v"],
  ["{${SET}}", { SET: "v" }, "{v}"],
  ["a}b${SET}}", { SET: "v" }, "a}bv}"],
  ["{ unclosed ${SET}", { SET: "v" }, "{ unclosed v"],
  // `$${` stays a literal `${`, nested or not; what follows it is read as usual.
  ["$${A:${B:b}}", {}, "${A:b}"],
  ["${MISSING:$${HOST}}", {}, "${HOST}"],
  ["$${HOST", {}, "${HOST"],
  ["$$${X}", {}, "$${X}"],
  // A variable's value is used as it is, never read for placeholders again.
  ["${SECRET}", { SECRET: "p${a}ss" }, "p${a}ss"],
  ["${A:${SECRET}}", { SECRET: "${x" }, "${x"],
  // Errors.
  ["${A:${B}}", {}, { error: "refers to ${B}, which is not set" }],
  ["${A:${B:x}", {}, { error: 'has an unclosed "${" in "${A:${B:x}"' }],
  ["${MISSING:{}", {}, { error: 'has an unclosed "${" in "${MISSING:{}"' }],
  [
    "${${N}}",
    { N: "a b" },
    {
      error:
        'has an invalid placeholder "${${N}}": its name, built from the placeholders inside it, is not a variable name',
    },
  ],
];

Deno.test("interpolate() resolves nested placeholders in defaults and names, as Spring does", () => {
  for (const [text, env, expected] of NESTED) {
    const r = interpolate(text, env);
    if (typeof expected === "string") {
      assert.ok(r.ok, `${text}: ${!r.ok && r.error}`);
      assert.equal(r.value, expected, text);
    } else {
      assert.ok(!r.ok, `${text} gave ${r.ok && r.value}`);
      assert.equal(r.error, expected.error, text);
    }
  }
});

Deno.test("interpolate() allows 10 nested placeholders and refuses 11 with a clear error", () => {
  const nest = (n: number) => "${V0:".repeat(n - 1) + "${V0:deep}" + "}".repeat(n - 1);
  const ten = interpolate(nest(MAX_PLACEHOLDER_DEPTH), {});
  assert.ok(ten.ok && ten.value === "deep");
  const eleven = interpolate(nest(MAX_PLACEHOLDER_DEPTH + 1), {});
  assert.ok(!eleven.ok);
  assert.match(eleven.error, /^nests placeholders more than 10 deep in "\$\{V0:\$\{V0:/);
  // Refused as written, whatever the environment: not only when the deep default is reached.
  assert.ok(!interpolate(nest(11), { V0: "set" }).ok);
});

Deno.test("interpolate() stays linear and shallow on hostile input (100k placeholders)", () => {
  const n = 100_000;
  const cases = [
    "${".repeat(n), // never closed (and too deep, seen first)
    "${A:".repeat(n) + "}".repeat(n), // closed, far too deep
    "${A:-x}".repeat(n), // wide, not deep
    "$${".repeat(n), // escaped, never closed: text
    "{".repeat(n) + "${A:-x}" + "}".repeat(n), // plain braces around one placeholder
  ];
  const started = performance.now();
  const results = cases.map((text) => interpolate(text, {}));
  const elapsed = performance.now() - started;
  assert.ok(!results[0].ok && results[0].error.startsWith('nests placeholders more than 10 deep in "${${'));
  assert.ok(results[0].error.length < 200, "the error repeats the whole value");
  assert.ok(!results[1].ok && results[1].error.startsWith("nests placeholders more than 10 deep"));
  assert.ok(results[2].ok && results[2].value === "x".repeat(n));
  assert.ok(results[3].ok && results[3].value === "${".repeat(n));
  assert.ok(results[4].ok && results[4].value === "{".repeat(n) + "x" + "}".repeat(n));
  // Quadratic work on 100k would take minutes; linear takes milliseconds.
  assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
});
