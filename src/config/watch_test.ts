import assert from "node:assert/strict";
import { watchConfig, type WatchOptions } from "./watch.ts";

// Short enough for fast tests; the debounce is long next to a burst of local writes.
const FAST: WatchOptions = { intervalMs: 5, debounceMs: 40 };

/** Waits `ms` (a ref'd timer: the watcher's own timer would not keep the test alive). */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts calls; `wait()` resolves on the next one, or fails after a deadline. */
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
    async wait(deadlineMs = 3_000) {
      const deadline = setTimeout(
        () => next.reject(new Error(`no call within ${deadlineMs} ms`)),
        deadlineMs,
      );
      try {
        await next.promise;
      } finally {
        clearTimeout(deadline);
        next = Promise.withResolvers<void>();
      }
    },
  };
}

/** A temporary directory holding `dairouter.yaml`, removed after `fn`. */
async function withConfig(fn: (dir: string, file: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/dairouter.yaml`;
  await Deno.writeTextFile(file, "model: {}\n");
  try {
    await fn(dir, file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("watchConfig() calls back once for a burst of writes to the file", async () => {
  await withConfig(async (_dir, file) => {
    const s = signal();
    const stop = watchConfig(file, s.callback, FAST);
    try {
      for (let i = 0; i < 5; i++) await Deno.writeTextFile(file, `model: {} ${"#".repeat(i + 1)}\n`);
      await s.wait();
      await pause(4 * FAST.debounceMs!);
      assert.equal(s.calls, 1);
    } finally {
      stop();
    }
  });
});

Deno.test("watchConfig() sees a file replaced by rename and ignores writes next to it", async () => {
  await withConfig(async (dir, file) => {
    const s = signal();
    const stop = watchConfig(file, s.callback, FAST);
    try {
      // A log file next to the config, written all the time: the case that woke the old watcher.
      for (let i = 0; i < 20; i++) {
        await Deno.writeTextFile(`${dir}/gateway.log`, `line ${i}\n`, { append: true });
      }
      await Deno.writeTextFile(`${dir}/new.tmp`, "model: { adapter: ollama }\n");
      await pause(2 * FAST.debounceMs!);
      assert.equal(s.calls, 0);
      await Deno.rename(`${dir}/new.tmp`, file);
      await s.wait();
      assert.equal(s.calls, 1);
    } finally {
      stop();
      stop();
    }
  });
});

Deno.test("watchConfig() reports a removed file, then its return", async () => {
  await withConfig(async (_dir, file) => {
    const s = signal();
    const stop = watchConfig(file, s.callback, FAST);
    try {
      await Deno.remove(file);
      await s.wait();
      await Deno.writeTextFile(file, "model: {}\n");
      await s.wait();
      assert.equal(s.calls, 2);
    } finally {
      stop();
    }
  });
});

Deno.test({
  name: "watchConfig() follows a symlink swap like a Kubernetes ConfigMap update",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withConfig(async (dir) => {
      // dairouter.yaml -> ..data/dairouter.yaml, ..data -> ..v1; an update swaps ..data to ..v2.
      for (const v of ["v1", "v2"]) {
        await Deno.mkdir(`${dir}/..${v}`);
        await Deno.writeTextFile(`${dir}/..${v}/dairouter.yaml`, `model: {} # ${v}\n`);
      }
      await Deno.symlink("..v1", `${dir}/..data`);
      const file = `${dir}/linked.yaml`;
      await Deno.symlink("..data/dairouter.yaml", file);
      const s = signal();
      const stop = watchConfig(file, s.callback, FAST);
      try {
        await Deno.symlink("..v2", `${dir}/..data_tmp`);
        await Deno.rename(`${dir}/..data_tmp`, `${dir}/..data`);
        await s.wait();
        assert.equal(s.calls, 1);
      } finally {
        stop();
      }
    });
  },
});

Deno.test({
  name: "watchConfig() reports a file it cannot read once, and sees it again once fixed",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withConfig(async (dir, file) => {
      const errors: unknown[] = [];
      const s = signal();
      const stop = watchConfig(file, s.callback, { ...FAST, onError: (e) => errors.push(e) });
      try {
        // A symlink loop: stat fails with an error other than "not found".
        await Deno.remove(file);
        await Deno.symlink("dairouter.yaml", file);
        await pause(20 * FAST.intervalMs!);
        assert.equal(errors.length, 1);
        assert.ok(
          errors[0] instanceof Error && !(errors[0] instanceof Deno.errors.NotFound),
          String(errors[0]),
        );
        await Deno.remove(file);
        await Deno.writeTextFile(`${dir}/dairouter.yaml`, "model: { fixed: true }\n");
        await s.wait();
        assert.equal(errors.length, 1);
      } finally {
        stop();
      }
    });
  },
});

Deno.test("watchConfig() stops calling back once stopped, even from inside the callback", async () => {
  await withConfig(async (_dir, file) => {
    let calls = 0;
    const stop = watchConfig(file, () => {
      calls++;
      stop();
    }, { ...FAST, debounceMs: 0 });
    await Deno.writeTextFile(file, "model: { a: 1 }\n");
    await pause(20 * FAST.intervalMs!);
    await Deno.writeTextFile(file, "model: { a: 22 }\n");
    await pause(20 * FAST.intervalMs!);
    assert.equal(calls, 1);
  });
});

Deno.test("watchConfig() does not keep the process alive", async () => {
  await withConfig(async (_dir, file) => {
    const code = `import { watchConfig } from ${JSON.stringify(import.meta.resolve("./watch.ts"))};
      watchConfig(${JSON.stringify(file)}, () => {}, { intervalMs: 10 });
      console.log("started");`;
    // Killed after a deadline, so that a watcher that keeps it alive fails the test, not hangs it.
    const kill = new AbortController();
    const deadline = setTimeout(() => kill.abort(), 10_000);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-check", "--allow-read", code],
      stdout: "piped",
      stderr: "piped",
      signal: kill.signal,
    }).output().finally(() => clearTimeout(deadline));
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "started");
  });
});

Deno.test("watchConfig() rejects a negative debounce and a non-positive interval", () => {
  assert.throws(
    () => watchConfig(".", () => {}, { debounceMs: -1 }),
    new RangeError('Cannot watch config: "debounceMs" must be >= 0, received -1'),
  );
  assert.throws(
    () => watchConfig(".", () => {}, { intervalMs: 0 }),
    new RangeError('Cannot watch config: "intervalMs" must be > 0, received 0'),
  );
});
