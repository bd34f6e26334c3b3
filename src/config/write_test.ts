import assert from "node:assert/strict";
import { ConfigError } from "./load.ts";
import { updateYamlFile } from "./write.ts";

const original = [
  "# DAiRouter test config",
  "model:",
  "  load-balance:",
  "    type: random # the seed's default",
  "  services:",
  "    chat:",
  "      instances:",
  "        - name: a # first",
  '          base-url: "http://127.0.0.1:1"',
  "",
].join("\n");

async function withFile(fn: (file: string, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/dairouter.yaml`;
  await Deno.writeTextFile(file, original);
  await Deno.chmod(file, 0o640);
  try {
    await fn(file, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("updateYamlFile() edits the document, keeps comments and the previous file as .bak", async () => {
  await withFile(async (file, dir) => {
    const { config } = await updateYamlFile(file, (doc) => {
      doc.setIn(["model", "load-balance", "type"], "round-robin");
      doc.addIn(["model", "services", "chat", "instances"], { name: "b", "base-url": "http://127.0.0.1:2" });
    });
    assert.equal(config.services.chat.loadBalance.type, "round-robin");
    assert.deepEqual(config.services.chat.instances.map((i) => i.name), ["a", "b"]);
    const text = await Deno.readTextFile(file);
    for (const comment of ["# DAiRouter test config", "# the seed's default", "# first"]) {
      assert.ok(text.includes(comment), comment);
    }
    assert.ok(text.includes("type: round-robin # the seed's default"));
    assert.equal(await Deno.readTextFile(`${file}.bak`), original);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o640);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["dairouter.yaml", "dairouter.yaml.bak"], "no temporary file left behind");
  });
});

Deno.test("updateYamlFile() gives <file>.bak the file's mode (0640, 0600), even over an older 0644 one", async () => {
  await withFile(async (file, dir) => {
    const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
    const edit = (weight: number) =>
      updateYamlFile(
        file,
        (doc) => doc.setIn(["model", "services", "chat", "instances", 0, "weight"], weight),
      );
    await edit(2);
    assert.equal(await modeOf(`${file}.bak`), 0o640, "a new backup");
    assert.equal(await modeOf(file), 0o640);

    // A backup left by an older version (or written by hand) with a wider mode is replaced.
    await Deno.chmod(`${file}.bak`, 0o644);
    await Deno.chmod(file, 0o600);
    const before = await Deno.readTextFile(file);
    await edit(3);
    assert.equal(await modeOf(`${file}.bak`), 0o600, "an existing backup");
    assert.equal(await modeOf(file), 0o600);
    assert.equal(await Deno.readTextFile(`${file}.bak`), before);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["dairouter.yaml", "dairouter.yaml.bak"], "no temporary file left behind");
  });
});

Deno.test("updateYamlFile() leaves the file untouched when the result is invalid", async () => {
  await withFile(async (file) => {
    await assert.rejects(
      updateYamlFile(file, (doc) => doc.setIn(["model", "services", "chat", "instances", 0, "weight"], -1)),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.endsWith("model.services.chat.instances[0].weight must be >= 0, received -1 (line 10)"),
    );
    assert.equal(await Deno.readTextFile(file), original);
    await assert.rejects(Deno.stat(`${file}.bak`), Deno.errors.NotFound);
  });
});

Deno.test("updateYamlFile() serialises concurrent updates of one file", async () => {
  await withFile(async (file) => {
    await Promise.all(
      ["b", "c", "d"].map((name, i) =>
        updateYamlFile(
          file,
          (doc) =>
            doc.addIn(["model", "services", "chat", "instances"], {
              name,
              "base-url": `http://127.0.0.1:${i + 2}`,
            }),
        )
      ),
    );
    const { config } = await updateYamlFile(file, () => {});
    assert.deepEqual(config.services.chat.instances.map((i) => i.name), ["a", "b", "c", "d"]);
  });
});

Deno.test("updateYamlFile() validates with the given environment", async () => {
  await withFile(async (file) => {
    const set = (doc: { setIn(path: unknown[], value: unknown): void }) =>
      doc.setIn(["model", "services", "chat", "instances", 0, "api-key"], "${KEY}");
    await assert.rejects(updateYamlFile(file, set), /api-key refers to \$\{KEY\}, which is not set/);
    const { config } = await updateYamlFile(file, set, { env: { KEY: "sk-1" } });
    assert.equal(config.services.chat.instances[0].apiKey, "sk-1");
    assert.ok(
      (await Deno.readTextFile(file)).includes("api-key: ${KEY}"),
      "the placeholder is written, not the secret",
    );
  });
});

Deno.test('updateYamlFile() keeps flow collections as written: ["a"] stays ["a"], { a: 1 } stays padded', async () => {
  await withFile(async (file) => {
    const text = original.replace(
      '          base-url: "http://127.0.0.1:1"',
      '          base-url: "http://127.0.0.1:1"\n          headers: { X-Team: "a" }\nauth:\n  keys:\n    - { name: ci, key: "sk-0123456789", models: ["a"] }',
    );
    await Deno.writeTextFile(file, text);
    await updateYamlFile(file, (doc) => doc.setIn(["model", "load-balance", "type"], "round-robin"));
    const after = await Deno.readTextFile(file);
    assert.ok(after.includes('models: ["a"]'), after);
    assert.ok(after.includes('headers: { X-Team: "a" }'), after);
    assert.equal(after, text.replace("type: random", "type: round-robin"));
  });
});

Deno.test("updateYamlFile() does not edit a configuration spread over several files by spring.config.import", async () => {
  await withFile(async (file, dir) => {
    await Deno.writeTextFile(`${dir}/extra.yml`, "model:\n  adapter: ollama\n");
    await Deno.writeTextFile(file, `spring.config.import: extra.yml\n${original}`);
    await assert.rejects(
      updateYamlFile(file, (doc) => doc.setIn(["model", "load-balance", "type"], "round-robin")),
      /spring\.config\.import spreads the configuration over 2 files, which the admin API does not edit/,
    );
    assert.equal(await Deno.readTextFile(file), `spring.config.import: extra.yml\n${original}`);
  });
});
