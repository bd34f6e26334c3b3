import assert from "node:assert/strict";
import { storeContract } from "./_testing.ts";
import { createMemoryStore } from "./memory.ts";

storeContract("createMemoryStore", (clock) => Promise.resolve(createMemoryStore(clock)));

Deno.test("createMemoryStore() rejects a missing clock", () => {
  assert.throws(() => createMemoryStore(undefined as unknown as () => number), {
    name: "TypeError",
    message: 'Cannot create memory store: "clock" must be a function, received undefined',
  });
});
