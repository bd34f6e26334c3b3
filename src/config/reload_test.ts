import assert from "node:assert/strict";
import { ConfigError } from "./error.ts";
import { createReloader, loadOffThread } from "./reload.ts";

const spawn = () => new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });

async function withFile(text: string, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/c.yaml`, text);
    await fn(`${dir}/c.yaml`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadOffThread() brings back the worker's ConfigError whole: an alias bomb with its line", async () => {
  const bomb = ["x: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"];
  for (const [i, name] of ["b", "c", "d", "e", "f"].entries()) {
    bomb.push(`${name}${i}: &${name} [${Array(10).fill(`*${"abcde"[i]}`).join(", ")}]`);
  }
  await withFile(
    `${bomb.join("\n")}\nmodel:\n  services:\n    chat:\n      instances: *f\n`,
    async (path) => {
      await assert.rejects(loadOffThread(spawn, path, {}), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.line, 10);
        assert.match(err.message, /uses the alias \*f, which expands to/);
        return true;
      });
    },
  );
});

Deno.test("loadOffThread() refuses a load that takes longer than its timeout, and ends the worker", async () => {
  await withFile("model:\n  adapter: ollama\n", async (path) => {
    await assert.rejects(
      loadOffThread(spawn, path, {}, { timeoutMs: 1 }),
      /took longer than 1 ms to load: refused/,
    );
    const { config } = await loadOffThread(spawn, path, { X: "1" }, { maxBytes: 1000 });
    assert.equal(config.services.chat.adapter, "ollama");
  });
});

Deno.test("createReloader() keeps the running config when a load fails, and reports why", async () => {
  const applied: string[] = [];
  const refused: string[] = [];
  let fail = true;
  const reload = createReloader({
    load: () => fail ? Promise.reject(new Error("bad file")) : Promise.resolve({ files: ["ok"] } as never),
    apply: (_r, why) => applied.push(why),
    refuse: (error, why) => refused.push(`${why}: ${(error as Error).message}`),
  });
  await reload("SIGHUP");
  fail = false;
  await reload("file change");
  assert.deepEqual(refused, ["SIGHUP: bad file"]);
  assert.deepEqual(applied, ["file change"]);
});
