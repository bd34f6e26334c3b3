/**
 * The `deno compile` commands of the project, read from where they are written — deno.json's
 * `compile` task and the release workflow — so tests can hold them to the same flags and run the
 * source with exactly the permissions the binary gets.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

const ROOT = new URL("../../", import.meta.url);

/** The flags of one `deno compile` command that decide what the binary may do and holds. */
export interface CompileFlags {
  /** `--allow-*`, `--unstable-*` and `--v8-flags=`, sorted: what `deno run` needs to behave the same. */
  readonly runtime: readonly string[];
  /** Files and folders embedded with `--include`, sorted. */
  readonly include: readonly string[];
  /** The entry point. */
  readonly entry: string;
}

/** Reads the flags of a `deno compile …` command line. */
export function parseCompile(command: string): CompileFlags {
  const words = command.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "compile") {
    throw new TypeError(`not a deno compile command: ${command}`);
  }
  const runtime: string[] = [];
  const include: string[] = [];
  let entry = "";
  for (let i = 2; i < words.length; i++) {
    const w = words[i];
    if (/^--(allow-|unstable-|v8-flags=)/.test(w)) runtime.push(w);
    else if (w === "--include") include.push(words[++i]);
    else if (w.startsWith("--include=")) include.push(w.slice("--include=".length));
    else if (w === "-o" || w === "--output" || w === "--target") i++;
    else if (!w.startsWith("-")) entry = w;
  }
  return { runtime: runtime.sort(), include: include.sort(), entry };
}

/** deno.json's `compile` task. */
export function taskCompile(): CompileFlags {
  return parseCompile((denoJson.tasks as Record<string, string>).compile);
}

/** The compile step of `.github/workflows/release.yml` (a folded `run: >` block). */
export async function releaseCompile(): Promise<CompileFlags> {
  const yaml = await Deno.readTextFile(new URL(".github/workflows/release.yml", ROOT));
  const m = /run: >\n((?:\s+.*\n)*?\s+.*main\.ts)\n/.exec(yaml.slice(yaml.indexOf("name: compile")));
  if (!m) throw new Error("release.yml has no compile step ending in main.ts");
  return parseCompile(m[1].replace(/\$\{\{[^}]*\}\}/g, "X").replace(/\s+/g, " "));
}
