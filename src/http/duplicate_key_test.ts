import assert from "node:assert/strict";
import { hasDuplicateKey } from "./duplicate_key.ts";

Deno.test("hasDuplicateKey() finds a repeated top-level key however it is spelled or spaced", () => {
  for (
    const text of [
      '{"model":"other","model":"allowed"}',
      '{ "model" : "a" ,\n "messages": [], "model" :"b"}',
      '{"model":"a","\\u006dodel":"b"}',
      '{"\\u006Dodel":"a","mod\\u0065l":"b"}',
      '{"x":{"y":[1,{"z":"}"}]},"model":"a","model":"b"}',
    ]
  ) {
    JSON.parse(text);
    assert.equal(hasDuplicateKey(text, "model"), true, text);
  }
});

Deno.test("hasDuplicateKey() ignores nested keys, values and escaped quotes that spell the key", () => {
  for (
    const text of [
      '{"model":"a"}',
      '{"messages":[]}',
      '{"model":"a","tools":[{"model":"b"}],"response_format":{"model":{"model":1}}}',
      '{"model":"model","role":"model"}',
      '{"model":"a","content":"say \\"model\\": twice \\"model\\""}',
      '{"model":"a","content":"ends with a backslash \\\\","x":"\\u00e9 \\u4f60"}',
      '{"content":"\\\\\\"model\\\\\\"","model":"a"}',
    ]
  ) {
    JSON.parse(text);
    assert.equal(hasDuplicateKey(text, "model"), false, text);
  }
});
