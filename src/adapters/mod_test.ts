import assert from "node:assert/strict";
import { ADAPTER_NAMES, getAdapter } from "./mod.ts";
import type { AdapterName } from "../types.ts";

Deno.test("getAdapter() returns an adapter for every configured name", () => {
  for (const name of ADAPTER_NAMES) {
    const adapter = getAdapter(name);
    assert.equal(typeof adapter.prepare, "function");
    assert.equal(typeof adapter.probe, "function");
  }
});

Deno.test("getAdapter() treats normal as an alias of openai", () => {
  assert.equal(getAdapter("normal"), getAdapter("openai"));
  assert.equal(getAdapter("normal").name, "openai");
});

Deno.test("getAdapter() rejects an unknown name with a RangeError", () => {
  assert.throws(() => getAdapter("bogus" as AdapterName), RangeError);
  assert.throws(() => getAdapter("toString" as AdapterName), RangeError);
});
