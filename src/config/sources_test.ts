import assert from "node:assert/strict";
import { ConfigError, loadConfigFile } from "./load.ts";

/** Writes `files` (path → text) under a temporary directory and runs `fn` with it. */
async function withTree(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "dairouter-sources-" });
  try {
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
      await Deno.writeTextFile(`${dir}/${path}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const instance = (name: string, port: number) =>
  `      instances:\n        - name: ${name}\n          base-url: http://127.0.0.1:${port}\n`;

Deno.test("loadConfigFile() follows spring.config.import: later imports override earlier ones, imports override the importer", async () => {
  await withTree({
    "res/application.yml": [
      "model:",
      "  adapter: vllm",
      "  load-balance: { type: round-robin }",
      "spring:",
      "  config:",
      "    import:",
      "      - optional:file:/nonexistent/dairouter/application.yml",
      "      - classpath:config/a.yml",
      "      - classpath:config/b.yml",
      "",
    ].join("\n"),
    "res/config/a.yml": "model:\n  adapter: ollama\n  services:\n    chat:\n" + instance("a", 1) +
      "spring.config.import: nested/c.yml\n",
    "res/config/nested/c.yml": "model:\n  services:\n    chat:\n      load-balance: { type: ip-hash }\n",
    "res/config/b.yml": "model:\n  services:\n    chat:\n" + instance("b", 2),
  }, async (dir) => {
    const { config, files } = await loadConfigFile(`${dir}/res/application.yml`, {});
    assert.deepEqual(files, [
      `${dir}/res/application.yml`,
      "config/a.yml",
      "config/nested/c.yml",
      "config/b.yml",
    ]);
    const chat = config.services.chat;
    assert.equal(chat.adapter, "ollama", "a.yml overrides the importing file");
    assert.deepEqual(chat.instances.map((i) => i.name), ["b"], "b.yml's list replaces a.yml's whole");
    assert.equal(chat.loadBalance.type, "ip-hash", "c.yml, imported by a.yml, is merged key by key");
    assert.equal(config.services.embedding.loadBalance.type, "round-robin", "the root's value stays");
  });
});

Deno.test("loadConfigFile() names the imported file and line of a problem, and the line of a missing import", async () => {
  await withTree({
    "application.yml": "spring.config.import:\n  - services.yml\n  - missing.yml\n",
    "services.yml":
      "model:\n  services:\n    chat:\n      instances:\n        - name: a\n          base-url: x\n",
  }, async (dir) => {
    await assert.rejects(loadConfigFile(`${dir}/application.yml`, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /spring\.config\.import names "missing\.yml" \(.*missing\.yml\), which does not exist \(line 3\)/,
      );
      return true;
    });
  });
  await withTree({
    "application.yml": "spring.config.import: services.yml\n",
    "services.yml":
      "model:\n  services:\n    chat:\n      instances:\n        - name: a\n          base-url: x\n",
  }, async (dir) => {
    await assert.rejects(loadConfigFile(`${dir}/application.yml`, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        `Cannot load config "${dir}/application.yml": model.services.chat.instances[0].base-url must be an ` +
          `http(s) URL, received "x" (line 6 of services.yml)`,
      );
      assert.equal(err.file, "services.yml");
      assert.equal(err.line, 6);
      return true;
    });
  });
});

Deno.test("loadConfigFile() loads profile files, from spring.profiles.active or SPRING_PROFILES_ACTIVE, above all imports", async () => {
  await withTree({
    "application.yml": "spring.config.import: base.yml\nmodel:\n  adapter: vllm\n",
    "base.yml": "spring:\n  profiles:\n    active: dev\nmodel:\n  adapter: ollama\n",
    "application-dev.yml": "model:\n  adapter: tei\n",
    "application-prod.yaml": "model:\n  adapter: triton\n",
  }, async (dir) => {
    const dev = await loadConfigFile(`${dir}/application.yml`, {});
    assert.equal(dev.config.services.chat.adapter, "tei");
    assert.equal(dev.files.at(-1), "application-dev.yml");
    const prod = await loadConfigFile(`${dir}/application.yml`, { SPRING_PROFILES_ACTIVE: "prod" });
    assert.equal(prod.config.services.chat.adapter, "triton");
    const none = await loadConfigFile(`${dir}/application.yml`, { SPRING_PROFILES_ACTIVE: "" });
    assert.equal(none.config.services.chat.adapter, "ollama");
  });
});

Deno.test("loadConfigFile() reads a file once however often it is imported, and refuses what it cannot read", async () => {
  await withTree({
    "application.yml": "spring.config.import: [a.yml, a.yml, application.yml]\nmodel: {}\n",
    "a.yml": "spring.config.import: application.yml\nmodel:\n  adapter: ollama\n",
    "other.yml":
      "spring.config.import: [ 'configserver:', optional:configtree:/etc/x/, b.properties ]\nmodel: {}\n",
  }, async (dir) => {
    const { files, config } = await loadConfigFile(`${dir}/application.yml`, {});
    assert.deepEqual(files.slice(1), ["a.yml"]);
    assert.equal(config.services.chat.adapter, "ollama");
    await assert.rejects(loadConfigFile(`${dir}/other.yml`, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.message), [
        'names "configserver:": configserver: locations cannot be read by DAiRouter',
        'names "b.properties": only YAML files (.yml, .yaml) can be imported',
      ]);
      return true;
    });
  });
});
