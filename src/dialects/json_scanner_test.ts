import assert from "node:assert/strict";
import { JsonScanner } from "./json_scanner.ts";

/** Whether `pieces`, read in turn, end complete. */
const scan = (...pieces: string[]) => {
  const s = new JsonScanner();
  for (const p of pieces) s.push(p);
  return s.complete;
};

Deno.test("JsonScanner: an object or array is complete when its top level closes, split anywhere", () => {
  const text = String.raw`{"a":[1,{"b":"]}"}],"c\\":"\"}{","d":{}}`;
  JSON.parse(text); // valid JSON
  for (let cut = 0; cut <= text.length; cut++) {
    assert.equal(scan(text.slice(0, cut), text.slice(cut)), true, `cut at ${cut}`);
    assert.equal(scan(text.slice(0, cut)), cut === text.length, `the first ${cut} characters`);
  }
  assert.equal(scan("[", "]"), true);
  assert.equal(scan(" {}"), true);
});

Deno.test("JsonScanner: empty, scalar and broken texts never count as complete", () => {
  assert.equal(scan(""), false);
  assert.equal(scan('"x"'), false);
  assert.equal(scan("42"), false);
  assert.equal(scan("}{", "}"), false, "a closing bracket with nothing open");
  assert.equal(scan('{"a":"}"'), false, "a brace inside a string");
});
