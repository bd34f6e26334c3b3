import assert from "node:assert/strict";
import { storeContract } from "./_testing.ts";
import { openKvStore } from "./kv.ts";

storeContract("openKvStore", (clock) => openKvStore(":memory:", { clock }));

Deno.test("openKvStore() requires an explicit path", async () => {
  await assert.rejects(() => openKvStore(""), {
    name: "TypeError",
    message:
      'Cannot open KV store: "path" must be a non-empty string (":memory:" for a throwaway store), received ""',
  });
});

Deno.test("openKvStore() keeps data in a file across close and reopen", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.sqlite`;
    const first = await openKvStore(path);
    await first.set(["breaker", "chat/a"], { state: "open" });
    first.close();
    const second = await openKvStore(path);
    assert.deepEqual(await second.get(["breaker", "chat/a"]), { state: "open" });
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openKvStore() ignores entries it did not write", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.sqlite`;
    const raw = await Deno.openKv(path);
    await raw.set(["foreign"], 42);
    await raw.set(["p", 1], { v: 1, x: 0 });
    raw.close();
    const store = await openKvStore(path);
    assert.equal(await store.get(["foreign"]), undefined);
    assert.deepEqual(await store.list(["p"]), []);
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
