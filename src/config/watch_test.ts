import assert from "node:assert/strict";
import { watchConfig } from "./watch.ts";

/** Resolves on the next call of the returned callback. */
function signal() {
  let calls = 0;
  let next = Promise.withResolvers<void>();
  return {
    get calls() {
      return calls;
    },
    callback: () => {
      calls++;
      next.resolve();
    },
    async wait() {
      await next.promise;
      next = Promise.withResolvers<void>();
    },
  };
}

Deno.test("watchConfig() calls back once for a burst of writes to the file", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/dairouter.yaml`;
  await Deno.writeTextFile(file, "model: {}\n");
  const s = signal();
  const stop = watchConfig(file, s.callback, { debounceMs: 150 });
  try {
    for (let i = 0; i < 5; i++) await Deno.writeTextFile(file, `model: {} # ${i}\n`);
    await s.wait();
    assert.equal(s.calls, 1);
  } finally {
    stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchConfig() sees a file replaced by rename and ignores its neighbours", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/dairouter.yaml`;
  await Deno.writeTextFile(file, "model: {}\n");
  const s = signal();
  const stop = watchConfig(file, s.callback, { debounceMs: 10 });
  try {
    await Deno.writeTextFile(`${dir}/other.yaml`, "x: 1\n");
    await Deno.writeTextFile(`${dir}/new.tmp`, "model: { adapter: ollama }\n");
    await Deno.rename(`${dir}/new.tmp`, file);
    await s.wait();
    assert.equal(s.calls, 1);
  } finally {
    stop();
    stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchConfig() rejects a negative debounce", () => {
  assert.throws(
    () => watchConfig(".", () => {}, { debounceMs: -1 }),
    new RangeError('Cannot watch config: "debounceMs" must be >= 0, received -1'),
  );
});
