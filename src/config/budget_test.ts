import assert from "node:assert/strict";
import { ConfigError, loadConfigFile, parseConfig } from "./load.ts";
import { readYaml } from "./locate.ts";

/** The bomb: nine aliases to nine aliases … six levels deep, used as the instance list. */
function aliasBomb(levels = 6, inModel = false): string {
  const names = "abcdefghij".slice(0, levels + 1).split("");
  const indent = inModel ? "    " : "  ";
  const lines = [inModel ? "model:\n  x-anchors:" : "x-anchors:"];
  lines.push(`${indent}${names[0]}: &${names[0]} [x, x, x, x, x, x, x, x, x]`);
  for (let i = 1; i < names.length; i++) {
    const ref = `*${names[i - 1]}`;
    lines.push(`${indent}${names[i]}: &${names[i]} [${Array(9).fill(ref).join(", ")}]`);
  }
  lines.push("model:", "  services:", "    chat:", `      instances: *${names[names.length - 1]}`);
  return lines.join("\n") + "\n";
}

const load = (text: string) => parseConfig(text, { source: "bomb.yaml", env: {} });

Deno.test("parseConfig() refuses the issue's 700-byte alias bomb at the alias's line, in well under a second", () => {
  const text = aliasBomb();
  assert.ok(text.length < 800, `${text.length} bytes`);
  const started = performance.now();
  assert.throws(() => load(text), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.line, 12);
    assert.equal(err.path, "model.services.chat.instances");
    assert.match(
      err.message,
      /uses the alias \*g, which expands to \d+ nodes; aliases may add at most 100000/,
    );
    return true;
  });
  const ms = performance.now() - started;
  // Before: 89 s and 4 GB. Now a few ms; a second is a bound no loaded CI machine reaches.
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
});

Deno.test("readYaml() charges aliases used inside the walked tree too, at the first alias over the budget", () => {
  const r = readYaml(
    aliasBomb(7).replace("x-anchors:", "model:\n  x:").replace(/^model:\n {2}services/m, "  services"),
    {},
  );
  assert.equal(r.value, undefined);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0].message, /uses the alias \*[a-h], which expands to/);
  assert.ok(r.problems[0].line !== undefined && r.problems[0].line <= 9, `line ${r.problems[0].line}`);
});

Deno.test("readYaml() reuses the value built for an anchor and locates an alias's keys at the alias", () => {
  const text = [
    "model:", //                                             1
    "  x-defaults: &d { base-url: http://127.0.0.1:1, weight: 2 }", // 2
    "  services:", //                                        3
    "    chat:", //                                          4
    "      instances:", //                                   5
    "        - { <<: *d, name: a }", //                      6
    "        - *d", //                                       7
  ].join("\n");
  const r = readYaml(text, {});
  const model = (r.value as { model: Record<string, unknown> }).model;
  const instances = (model.services as { chat: { instances: unknown[] } }).chat.instances;
  assert.equal(instances[1], model.xDefaults, "the alias is the anchor's value, not a second walk of it");
  assert.deepEqual(r.origins.locate(["model", "services", "chat", "instances", 1, "weight"]), {
    written: "model.services.chat.instances[1].weight",
    line: 7,
  });
});

Deno.test("readYaml() handles many small aliases in time proportional to the file", () => {
  const uses = Array.from({ length: 20_000 }, (_, i) => `  k${i}: *v`).join("\n");
  const started = performance.now();
  const r = readYaml(`x-v: &v 1\nmodel:\n${uses}\n`, {});
  const ms = performance.now() - started;
  assert.deepEqual(r.problems, []);
  assert.equal(Object.keys((r.value as { model: object }).model).length, 20_000);
  // The yaml library's own Alias.resolve rescans the document per alias: minutes for this file.
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
});

Deno.test("readYaml() refuses nesting deeper than 64 levels, and cyclic aliases", () => {
  const deep = readYaml(`model: ${"[".repeat(70)}${"]".repeat(70)}\n`, {});
  assert.match(deep.problems[0].message, /nests deeper than 64 levels/);
  assert.equal(deep.problems[0].line, 1);
  const cyclic = readYaml("model: &x [ *x ]\n", {});
  assert.match(cyclic.problems[0].message, /alias \*x, which is undefined or circular/);
});

Deno.test("loadConfigFile() refuses a file over the size cap without reading it whole; --max-config-size raises it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/big.yaml`;
    const line = "# padding padding padding padding padding padding padding padding padding\n";
    await Deno.writeTextFile(file, "model: {}\n" + line.repeat(Math.ceil((2 * 1024 * 1024) / line.length)));
    const started = performance.now();
    await assert.rejects(loadConfigFile(file, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        `Cannot load config "${file}": is larger than the configuration size limit of 1048576 bytes ` +
          "(raise it with --max-config-size)",
      );
      return true;
    });
    assert.ok(performance.now() - started < 1000);
    const { config } = await loadConfigFile(file, {}, { maxBytes: 4 * 1024 * 1024 });
    assert.equal(config.services.chat.instances.length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseConfig() counts imported files against the same size cap, naming the one that does not fit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/base.yml`, "model:\n  adapter: ollama\n" + "#".repeat(600) + "\n");
    const root = "spring.config.import: base.yml\n" + "#".repeat(500) + "\n";
    await Deno.writeTextFile(`${dir}/application.yml`, root);
    await assert.rejects(loadConfigFile(`${dir}/application.yml`, {}, { maxBytes: 1000 }), (err: Error) => {
      assert.match(
        err.message,
        /spring\.config\.import names base\.yml, which does not fit in the configuration size limit of 1000 bytes \(\d+ bytes left after the other files\)/,
      );
      return true;
    });
    const { config } = await loadConfigFile(`${dir}/application.yml`, {}, { maxBytes: 2000 });
    assert.equal(config.services.chat.adapter, "ollama");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
