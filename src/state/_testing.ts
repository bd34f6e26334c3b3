/**
 * The contract every {@linkcode StateStore} passes (memory, Deno KV and Redis), so that the gateway
 * can switch backends without changing behaviour.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Clock } from "../types.ts";
import type { StateStore } from "./store.ts";

/** A fake clock the suite advances. */
export interface FakeClock extends Clock {
  /** What the clock returns; tests move it. */
  now: number;
}

/**
 * Registers the shared store contract tests.
 *
 * @param name How the store appears in test names, e.g. "createMemoryStore".
 * @param open Opens a fresh, empty store on the given clock.
 */
export function storeContract(name: string, open: (clock: Clock) => Promise<StateStore>): void {
  /** Runs `fn` with a fresh store on a fake clock, closing the store afterwards. */
  const withStore = (fn: (store: StateStore, clock: FakeClock) => Promise<void>) => async () => {
    const clock = Object.assign(() => clock.now, { now: 1_700_000_000_000 });
    const store = await open(clock);
    try {
      await fn(store, clock);
    } finally {
      store.close();
    }
  };

  Deno.test(
    `${name}() get() of a missing key is undefined`,
    withStore(async (store) => {
      assert.equal(await store.get(["nope"]), undefined);
    }),
  );

  Deno.test(
    `${name}() set() then get() returns an equal value, and set() overwrites`,
    withStore(async (store) => {
      const value = { state: "open", n: [1, 2.5, -3], nested: { s: "é😀", t: true, z: null } };
      await store.set(["breaker", "chat/a"], value);
      assert.deepEqual(await store.get(["breaker", "chat/a"]), value);
      await store.set(["breaker", "chat/a"], "second");
      assert.equal(await store.get(["breaker", "chat/a"]), "second");
    }),
  );

  Deno.test(
    `${name}() copies values: later mutation of the written or read object does not leak in`,
    withStore(async (store) => {
      const value = { list: [1] };
      await store.set(["k"], value);
      value.list.push(2);
      const read = await store.get<{ list: number[] }>(["k"]);
      assert.deepEqual(read, { list: [1] });
      read!.list.push(3);
      assert.deepEqual(await store.get(["k"]), { list: [1] });
    }),
  );

  Deno.test(
    `${name}() delete() removes a key and ignores a missing one`,
    withStore(async (store) => {
      await store.set(["a", "b"], 1);
      await store.delete(["a", "b"]);
      await store.delete(["a", "b"]);
      assert.equal(await store.get(["a", "b"]), undefined);
    }),
  );

  Deno.test(
    `${name}() list() returns keys strictly below the prefix, in UTF-8 key order`,
    withStore(async (store) => {
      for (
        const key of [["p", "😀"], ["p", "z"], ["p"], ["pq", "x"], ["p", "é"], ["p", "a", "b"], ["p", "a"], [
          "p",
          "\uE000",
        ]]
      ) {
        await store.set(key, key.join("/"));
      }
      await store.set(["q"], 0);
      const listed = await store.list<string>(["p"]);
      assert.deepEqual(listed.map((e) => e.key), [["p", "a"], ["p", "a", "b"], ["p", "z"], ["p", "é"], [
        "p",
        "\uE000",
      ], [
        "p",
        "😀",
      ]]);
      assert.deepEqual(listed.map((e) => e.value), ["p/a", "p/a/b", "p/z", "p/é", "p/\uE000", "p/😀"]);
      assert.equal((await store.list([])).length, 9);
      assert.deepEqual(await store.list(["nothing"]), []);
    }),
  );

  Deno.test(
    `${name}() hides an entry once expireInMs has passed on its clock`,
    withStore(async (store, clock) => {
      await store.set(["cache", "x"], "v", { expireInMs: 1000 });
      await store.set(["cache", "y"], "kept");
      clock.now += 999;
      assert.equal(await store.get(["cache", "x"]), "v");
      clock.now += 1;
      assert.equal(await store.get(["cache", "x"]), undefined);
      assert.deepEqual((await store.list(["cache"])).map((e) => e.key), [["cache", "y"]]);
    }),
  );

  Deno.test(
    `${name}() rejects bad keys with TypeError and bad expiries with RangeError`,
    withStore(async (store) => {
      await assert.rejects(() => store.set([], 1), TypeError);
      await assert.rejects(() => store.get([1 as unknown as string]), TypeError);
      await assert.rejects(() => store.delete("k" as unknown as string[]), TypeError);
      await assert.rejects(() => store.list([2 as unknown as string]), TypeError);
      await assert.rejects(() => store.set(["k"], 1, { expireInMs: 0 }), {
        name: "RangeError",
        message: 'Cannot set state: "expireInMs" must be a finite number > 0, received 0',
      });
    }),
  );

  Deno.test(
    `${name}() set() without expireInMs over an expiring entry keeps it past the old expiry`,
    withStore(async (store, clock) => {
      await store.set(["k"], "first", { expireInMs: 100 });
      await store.set(["k"], "second");
      clock.now += 1000;
      assert.equal(await store.get(["k"]), "second");
      await store.set(["k"], "third", { expireInMs: 100 });
      clock.now += 100;
      assert.equal(await store.get(["k"]), undefined, "and an expiry set again applies again");
    }),
  );

  Deno.test(
    `${name}() keys whose parts hold separators, quotes or nothing never collide`,
    withStore(async (store) => {
      const keys = [["a/b"], ["a", "b"], ["a:b"], ["a,b"], ['a"', "b"], ["a", ""], [""], ["a\u0000b"]];
      for (const [i, key] of keys.entries()) await store.set(key, i);
      for (const [i, key] of keys.entries()) assert.equal(await store.get(key), i, JSON.stringify(key));
      assert.deepEqual((await store.list(["a"])).map((e) => e.key), [["a", ""], ["a", "b"]]);
    }),
  );

  Deno.test(
    `${name}() delete() takes a key out of list(); concurrent writes to distinct keys all land`,
    withStore(async (store) => {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => store.set(["many", String(i).padStart(2, "0")], i)),
      );
      await store.delete(["many", "07"]);
      const listed = await store.list<number>(["many"]);
      assert.equal(listed.length, 39);
      assert.deepEqual(
        listed.map((e) => e.value),
        Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 7),
      );
    }),
  );

  Deno.test(
    `${name}() keeps numbers exact and a 32 KB value whole`,
    withStore(async (store) => {
      const value = { n: [0.1 + 0.2, 1e300, Number.MAX_SAFE_INTEGER, -5e-324], text: "é".repeat(16 * 1024) };
      await store.set(["big"], value);
      assert.deepEqual(await store.get(["big"]), value);
    }),
  );

  Deno.test(`${name}() close() may be called twice`, async () => {
    const store = await open(() => 0);
    store.close();
    store.close();
  });
}
