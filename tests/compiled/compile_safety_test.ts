/**
 * Keeps the program compile-safe, since `deno compile` cannot run on our machines (CI on GitHub
 * compiles and smoke-tests the binary): the release workflow and the `compile` task bake in the
 * same permissions, unstable features, V8 flags and embedded files; every module the binary holds imports
 * only literal specifiers and reads only files that are embedded; and Deno KV is always opened at
 * an explicit path.
 */

import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { releaseCompile, taskCompile } from "./compile_command.ts";

const ROOT = new URL("../../", import.meta.url);

/** The project's own modules in the binary's module graph (`deno info --json main.ts`). */
async function graph(entry: string): Promise<{ path: string; source: string }[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.equal(out.code, 0);
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: { specifier: string }[] };
  const own = info.modules.map((m) => m.specifier).filter((s) => s.startsWith(ROOT.href));
  return await Promise.all(own.map(async (s) => ({
    path: s.slice(ROOT.href.length),
    source: await Deno.readTextFile(new URL(s)),
  })));
}

/** `import(` whose argument is not one string literal. */
const COMPUTED_IMPORT = /\bimport\s*\(\s*(?!["'][^"'`$]*["']\s*\))/;
/** Code that finds a file next to itself. */
const FILE_NEXT_TO_CODE = /import\.meta\.(url|dirname|filename|resolve)/;
/** A KV store opened at Deno's default location, which a binary does not have. */
const PATHLESS_KV = /Deno\.openKv\(\s*\)/;

/** Lines of `source` matching `re`, outside comments. */
function findings(source: string, re: RegExp): string[] {
  return source.split("\n").filter((l) => re.test(l) && !/^\s*(\*|\/\/)/.test(l));
}

Deno.test("compile: the release workflow bakes in the same permissions, unstable flags and files as deno task compile", async () => {
  const task = taskCompile();
  const release = await releaseCompile();
  assert.deepEqual(release, task);
  for (const feature of denoJson.unstable) {
    assert.ok(
      task.runtime.includes(`--unstable-${feature}`),
      `deno.json enables ${feature}; compile does not`,
    );
  }
  for (const file of task.include) await Deno.stat(new URL(file, ROOT));
});

/** V8 flags the gateway is tuned for (docs/perf/README.md): without the first, V8's allocation-site
 * pretenuring sends per-request objects straight to the old generation (round 3); the other two bound
 * the heap a burst of load leaves behind (round 4). */
const GC_FLAG =
  "--v8-flags=--no-allocation-site-pretenuring,--max-semi-space-size=8,--heap-growing-percent=100";

Deno.test("compile: the binary, deno task start and the demo run with the GC flags the gateway is tuned for", () => {
  assert.ok(taskCompile().runtime.includes(GC_FLAG), `deno task compile lacks ${GC_FLAG}`);
  const tasks = denoJson.tasks as Record<string, string>;
  for (const name of ["start", "demo"]) {
    assert.ok(tasks[name].split(/\s+/).includes(GC_FLAG), `deno task ${name} lacks ${GC_FLAG}`);
  }
});

Deno.test("compile: the binary's modules import literal specifiers only and read only embedded files", async () => {
  const { entry, include } = taskCompile();
  const modules = await graph(entry);
  assert.ok(modules.length > 50, `only ${modules.length} modules in the graph`);
  const problems: string[] = [];
  for (const { path, source } of modules) {
    for (const l of findings(source, COMPUTED_IMPORT)) {
      problems.push(`${path}: computed dynamic import: ${l.trim()}`);
    }
    for (const l of findings(source, FILE_NEXT_TO_CODE)) {
      const target = /new URL\(\s*["']([^"'`$]+)["']\s*,\s*import\.meta\.url\s*\)/.exec(l)?.[1];
      const file = target && new URL(target, new URL(path, ROOT)).href.slice(ROOT.href.length);
      if (!file || !include.some((inc) => file === inc || file.startsWith(`${inc.replace(/\/$/, "")}/`))) {
        problems.push(`${path}: reads a file next to the code that --include does not embed: ${l.trim()}`);
      }
    }
    for (const l of findings(source, PATHLESS_KV)) problems.push(`${path}: KV without a path: ${l.trim()}`);
  }
  assert.deepEqual(problems, []);
});

Deno.test("compile: the safety scan finds a computed import, an unembedded read and a path-less KV", () => {
  const bad = [
    "const m = await import(`./adapters/${name}.ts`);",
    'const html = await Deno.readTextFile(new URL("./console/index.html", import.meta.url));',
    "const kv = await Deno.openKv();",
  ].join("\n");
  assert.equal(findings(bad, COMPUTED_IMPORT).length, 1);
  assert.equal(findings(bad, FILE_NEXT_TO_CODE).length, 1);
  assert.equal(findings(bad, PATHLESS_KV).length, 1);
  assert.equal(findings('const m = await import("./x.ts");', COMPUTED_IMPORT).length, 0);
});
