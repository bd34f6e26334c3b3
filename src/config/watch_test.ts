import assert from "node:assert/strict";
import { manualSchedule } from "../../tests/fakes/manual_schedule.ts";
import { ConfigError } from "./error.ts";
import { loadConfigFile } from "./load.ts";
import { watchConfig, watchConfigFiles, watchFiles, type WatchOptions } from "./watch.ts";

// The watcher's timer is the injected manual schedule: each `look()` below runs exactly one poll
// of the file and waits for it to finish, so "nothing happened" means "nothing after N looks", not
// "nothing after a sleep".
const INTERVAL = 1000;
const DEBOUNCE = 200;

/** A watcher on `file` driven by hand, counting calls and errors. */
function drive(file: string, options: Omit<WatchOptions, "schedule"> = {}) {
  const time = manualSchedule();
  let calls = 0;
  const errors: unknown[] = [];
  const stop = watchConfig(file, () => calls++, {
    intervalMs: INTERVAL,
    debounceMs: DEBOUNCE,
    onError: (e) => errors.push(e),
    ...options,
    schedule: time.schedule,
  });
  return {
    time,
    stop,
    errors,
    get calls() {
      return calls;
    },
    /** Runs the next `n` polls, each to completion (a finished poll arms the next one). */
    async look(n = 1) {
      for (let i = 0; i < n; i++) {
        const rearmed = time.scheduled();
        assert.ok(time.runNext(), "the watcher has no poll scheduled");
        await rearmed;
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

Deno.test("watchConfig() looks every interval, confirms a change after the debounce, and calls back once for a burst", async () => {
  await withConfig(async (_dir, file) => {
    const w = drive(file);
    try {
      assert.deepEqual(w.time.pending(), [INTERVAL]);
      await w.look(3);
      assert.equal(w.calls, 0, "called back with no change");
      assert.deepEqual(w.time.pending(), [INTERVAL]);
      for (let i = 0; i < 5; i++) await Deno.writeTextFile(file, `model: {} ${"#".repeat(i + 1)}\n`);
      await w.look();
      assert.equal(w.calls, 0, "called back before the debounce confirmed the file is complete");
      assert.deepEqual(w.time.pending(), [DEBOUNCE]);
      await w.look();
      assert.equal(w.calls, 1);
      await w.look(5);
      assert.equal(w.calls, 1, "one burst, several calls");
      assert.deepEqual(w.time.pending(), [INTERVAL]);
    } finally {
      w.stop();
    }
  });
});

Deno.test("watchConfig() waits while the file keeps changing, then calls back once", async () => {
  await withConfig(async (_dir, file) => {
    const w = drive(file);
    try {
      for (let i = 0; i < 4; i++) {
        await Deno.writeTextFile(file, `model: {} ${"#".repeat(i + 1)}\n`);
        await w.look();
        assert.equal(w.calls, 0, `called back mid-copy, write ${i}`);
      }
      await w.look();
      assert.equal(w.calls, 1);
    } finally {
      w.stop();
    }
  });
});

Deno.test("watchConfig() sees a file replaced by rename and ignores writes next to it", async () => {
  await withConfig(async (dir, file) => {
    const w = drive(file);
    try {
      // A log file next to the config, written all the time: the case that woke the old watcher.
      for (let i = 0; i < 20; i++) {
        await Deno.writeTextFile(`${dir}/gateway.log`, `line ${i}\n`, { append: true });
        if (i % 5 === 0) await w.look();
      }
      await Deno.writeTextFile(`${dir}/new.tmp`, "model: { adapter: ollama }\n");
      await w.look(2);
      assert.equal(w.calls, 0);
      assert.deepEqual(w.time.pending(), [INTERVAL], "a write next to the file was taken for a change");
      await Deno.rename(`${dir}/new.tmp`, file);
      await w.look(2);
      assert.equal(w.calls, 1);
    } finally {
      w.stop();
      w.stop();
    }
  });
});

Deno.test("watchConfig() reports a removed file, then its return", async () => {
  await withConfig(async (_dir, file) => {
    const w = drive(file);
    try {
      await Deno.remove(file);
      await w.look(2);
      assert.equal(w.calls, 1);
      await w.look(3);
      assert.equal(w.calls, 1, "a file still missing is not a new change");
      await Deno.writeTextFile(file, "model: {}\n");
      await w.look(2);
      assert.equal(w.calls, 2);
      assert.deepEqual(w.errors, [], "a missing file is a change, not an error");
    } finally {
      w.stop();
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
      const w = drive(file);
      try {
        await w.look(2);
        assert.equal(w.calls, 0);
        await Deno.symlink("..v2", `${dir}/..data_tmp`);
        await Deno.rename(`${dir}/..data_tmp`, `${dir}/..data`);
        await w.look(2);
        assert.equal(w.calls, 1);
      } finally {
        w.stop();
      }
    });
  },
});

Deno.test({
  name: "watchConfig() reports a file it cannot read once, and sees it again once fixed",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withConfig(async (dir, file) => {
      const w = drive(file);
      try {
        // A symlink loop: stat fails with an error other than "not found".
        await Deno.remove(file);
        await Deno.symlink("dairouter.yaml", file);
        await w.look(20);
        assert.equal(w.errors.length, 1);
        assert.ok(
          w.errors[0] instanceof Error && !(w.errors[0] instanceof Deno.errors.NotFound),
          String(w.errors[0]),
        );
        assert.equal(w.calls, 0);
        assert.deepEqual(w.time.pending(), [INTERVAL], "watching stopped after an error");
        await Deno.remove(file);
        await Deno.writeTextFile(`${dir}/dairouter.yaml`, "model: { fixed: true }\n");
        await w.look(2);
        assert.equal(w.calls, 1);
        assert.equal(w.errors.length, 1);
      } finally {
        w.stop();
      }
    });
  },
});

Deno.test("watchConfig() stops calling back once stopped, even from inside the callback", async () => {
  await withConfig(async (_dir, file) => {
    const time = manualSchedule();
    let calls = 0;
    const stop = watchConfig(file, () => {
      calls++;
      stop();
    }, { intervalMs: INTERVAL, debounceMs: 0, schedule: time.schedule });
    await Deno.writeTextFile(file, "model: { a: 1 }\n");
    for (let i = 0; i < 2; i++) {
      const rearmed = time.scheduled();
      time.runNext();
      await rearmed;
    }
    assert.equal(calls, 1);
    assert.deepEqual(time.pending(), [], "a timer is still armed after stop()");
    await Deno.writeTextFile(file, "model: { a: 22 }\n");
    assert.equal(time.runNext(), false);
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

/** `watchFiles` driven by hand, like `drive`. */
function driveFiles(paths: readonly string[]) {
  const time = manualSchedule();
  let calls = 0;
  const errors: unknown[] = [];
  const w = watchFiles(paths, () => calls++, {
    intervalMs: INTERVAL,
    debounceMs: DEBOUNCE,
    onError: (e) => errors.push(e),
    schedule: time.schedule,
  });
  return {
    w,
    time,
    errors,
    get calls() {
      return calls;
    },
    async look(n = 1) {
      for (let i = 0; i < n; i++) {
        const rearmed = time.scheduled();
        assert.ok(time.runNext(), "the watcher has no poll scheduled");
        await rearmed;
      }
    },
  };
}

Deno.test("watchFiles() sees a change in any of its files and calls back once for a burst over several", async () => {
  await withConfig(async (dir, file) => {
    const dev = `${dir}/dairouter-dev.yaml`;
    await Deno.writeTextFile(dev, "model: {}\n");
    const d = driveFiles([file, dev]);
    try {
      await d.look(3);
      assert.equal(d.calls, 0);
      await Deno.writeTextFile(dev, "auth: { keys: [] }\n");
      await d.look();
      assert.deepEqual(d.time.pending(), [DEBOUNCE]);
      // The other file changes while the first one's change is being confirmed: still one burst.
      await Deno.writeTextFile(file, "model: { adapter: vllm }\n");
      await d.look();
      assert.equal(d.calls, 0, "called back while a file was still changing");
      await d.look();
      assert.equal(d.calls, 1);
      await d.look(3);
      assert.equal(d.calls, 1);
      assert.deepEqual(d.time.pending(), [INTERVAL]);
    } finally {
      d.w.stop();
    }
  });
});

Deno.test("watchFiles() sees a file that did not exist appear (an optional import created later)", async () => {
  await withConfig(async (dir, file) => {
    const optional = `${dir}/extra.yml`;
    const d = driveFiles([file, optional]);
    try {
      await d.look(3);
      assert.equal(d.calls, 0, "a file still missing is no change");
      await Deno.writeTextFile(optional, "model: {}\n");
      await d.look(2);
      assert.equal(d.calls, 1);
      assert.deepEqual(d.errors, []);
    } finally {
      d.w.stop();
    }
  });
});

Deno.test("watchFiles() follow(): a file added is watched from now, one dropped no longer, one kept keeps its last look", async () => {
  await withConfig(async (dir, file) => {
    const a = `${dir}/a.yml`;
    const b = `${dir}/b.yml`;
    await Deno.writeTextFile(a, "model: {}\n");
    await Deno.writeTextFile(b, "model: {}\n");
    const d = driveFiles([file, a]);
    try {
      // `b` joins: what it holds now is not a change.
      await Deno.writeTextFile(b, "model: { adapter: tei }\n");
      d.w.follow([file, a, b, b]);
      assert.deepEqual(d.w.paths(), [file, a, b]);
      await d.look(3);
      assert.equal(d.calls, 0);
      await Deno.writeTextFile(b, "model: { adapter: vllm }\n");
      await d.look(2);
      assert.equal(d.calls, 1, "a file added by follow() is watched");
      // `a` leaves: its edits are no longer ours.
      d.w.follow([file, b]);
      await Deno.writeTextFile(a, "model: { adapter: vllm }\n");
      await d.look(3);
      assert.equal(d.calls, 1, "a file dropped by follow() is still watched");
      // A change seen just before follow() is confirmed after it, not forgotten.
      await Deno.writeTextFile(file, "model: { adapter: ollama }\n");
      await d.look();
      d.w.follow([file, b]);
      await d.look();
      assert.equal(d.calls, 2);
    } finally {
      d.w.stop();
    }
  });
});

Deno.test("watchConfigFiles() follows the loads: profile files and imports, added, removed, missing, and after a refused load", async () => {
  const dir = await Deno.makeTempDir();
  const root = `${dir}/application.yml`;
  const at = (name: string) => `${dir}/${name}`;
  const write = (name: string, text: string) => Deno.writeTextFile(at(name), text);
  const time = manualSchedule();
  let calls = 0;
  let watch: ReturnType<typeof watchConfigFiles> | undefined;
  const look = async (n = 2) => {
    for (let i = 0; i < n; i++) {
      const rearmed = time.scheduled();
      time.runNext();
      await rearmed;
    }
  };
  /** Edits `name` and says whether the watcher called back for it. */
  const seen = async (name: string, text: string) => {
    const before = calls;
    await write(name, text);
    await look();
    return calls > before;
  };
  const MODEL =
    "model: { services: { chat: { instances: [{ name: m, base-url: 'http://127.0.0.1:1' }] } } }\n";
  try {
    await write("application.yml", `spring.profiles.active: dev\nspring.config.import: base.yml\n${MODEL}`);
    await write("base.yml", "model: { adapter: ollama }\n");
    await write("application-dev.yml", "auth: { enabled: false }\n");
    await write("old.yml", "model: {}\n");
    watch = watchConfigFiles(root, () => calls++, {
      intervalMs: INTERVAL,
      debounceMs: DEBOUNCE,
      schedule: time.schedule,
    });
    // Before any load is reported, only the file given is watched.
    assert.equal(await seen("base.yml", "model: { adapter: vllm }\n"), false);
    watch.loaded(await loadConfigFile(root, {}));
    // The reviewer's case: a key disabled in application-dev.yml.
    assert.equal(await seen("application-dev.yml", "log: { level: debug }\n"), true);
    assert.equal(await seen("base.yml", "model: { adapter: tei }\n"), true);
    // A profile file looked for but absent (.yaml after .yml) is not watched once .yml exists;
    // application-dev.yaml would not be read.
    assert.equal(await seen("unrelated.yml", "x: 1\n"), false);

    // A reload with the import list changed: new.yml and an optional missing.yml joined, base.yml left.
    await write(
      "application.yml",
      `spring.profiles.active: dev\nspring.config.import: [new.yml, "optional:missing.yml"]\n${MODEL}`,
    );
    await write("new.yml", "model: { adapter: openai }\n");
    await look();
    watch.loaded(await loadConfigFile(root, {}));
    assert.equal(
      await seen("base.yml", "model: { adapter: vllm }\n"),
      false,
      "a removed import still watched",
    );
    assert.equal(await seen("new.yml", "model: { adapter: tei }\n"), true, "an added import not watched");
    assert.equal(await seen("missing.yml", "model: {}\n"), true, "an optional import that appears not seen");

    // A refused load: it names required.yml, which does not exist. The files in force stay
    // watched, and required.yml appearing is the fix, so it is watched too.
    await write(
      "application.yml",
      `spring.profiles.active: dev\nspring.config.import: required.yml\n${MODEL}`,
    );
    await look();
    const refused = await loadConfigFile(root, {}).catch((e) => e);
    assert.ok(refused instanceof ConfigError);
    watch.refused(refused);
    assert.equal(
      await seen("application-dev.yml", "auth: { enabled: false }\n"),
      true,
      "the config in force",
    );
    assert.equal(await seen("required.yml", "model: {}\n"), true, "the missing import of the refused load");
    // A refusal without a file list (a timeout): the config in force only.
    watch.refused(new Error("took longer than 30000 ms to load: refused"));
    assert.equal(await seen("required.yml", "model: { adapter: vllm }\n"), false);
    assert.equal(await seen("new.yml", "model: { adapter: vllm }\n"), true);
    assert.equal(await seen("old.yml", "model: { adapter: vllm }\n"), false, "never part of it");
  } finally {
    watch?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfigFile() lists every file it read or looked for, key files included, also when it fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/application.yml`,
      [
        "spring.profiles.active: dev",
        'spring.config.import: ["optional:none.yml", sub/base.yml]',
        "auth: { keys: [{ name: ops, key-file: ops.key }] }",
        "model: { services: { chat: { instances: [{ name: m, base-url: 'http://127.0.0.1:1' }] } } }",
      ].join("\n"),
    );
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/sub/base.yml`, "model: { adapter: ollama }\n");
    await Deno.writeTextFile(`${dir}/ops.key`, "sk-ops-0123456789\n");
    const { watched } = await loadConfigFile(`${dir}/application.yml`, {});
    assert.deepEqual([...watched!].sort(), [
      `${dir}/application-dev.yaml`,
      `${dir}/application-dev.yml`,
      `${dir}/application.yml`,
      `${dir}/none.yml`,
      `${dir}/ops.key`,
      `${dir}/sub/base.yml`,
    ]);
    await Deno.remove(`${dir}/ops.key`);
    const error = await loadConfigFile(`${dir}/application.yml`, {}).catch((e) => e);
    assert.ok(error instanceof ConfigError);
    assert.ok(error.watched?.includes(`${dir}/ops.key`), String(error.watched));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
