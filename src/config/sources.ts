/**
 * The files that make up one configuration, in Spring Boot's order of precedence (lowest first):
 * the root file; then each `spring.config.import` location in the order written, each followed by
 * what it imports itself (later imports override earlier ones, and an imported file overrides the
 * file that imports it); then, for each active profile, `<root name>-<profile>.yml` beside the root
 * file with its own imports. Profiles come from `SPRING_PROFILES_ACTIVE`, else from the
 * `spring.profiles.active` / `include` of the files read so far. A file is read once, however often
 * it is named. All of it is charged to one read budget (bytes and alias expansion).
 *
 * @module
 */

import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { type ReadBudget, sizeRefusal } from "./budget.ts";
import type { KeyNames } from "./keys.ts";
import { type ReadResult, readYaml } from "./locate.ts";
import type { Layer } from "./merge.ts";
import type { Problem } from "./problem.ts";
import { byteLength, type ReadSource, TooLargeError } from "./read.ts";
import { classpathRootOf, type Located, resolveLocation, springImports, springProfiles } from "./spring.ts";

/** Most files one configuration may be made of. */
export const MAX_FILES = 100;

/** Options of `readSources`. */
export interface SourceOptions {
  /** The root file's path (for relative imports and profile files). */
  readonly source: string;
  readonly env: Readonly<Record<string, string>>;
  /** Reads imported files; without it a file that imports others is refused. */
  readonly readSource?: ReadSource;
  /** Shared by all files. */
  readonly budget: ReadBudget;
  /** Printed with the size limit, so the refusal says how to raise it. */
  readonly limitHint?: string;
  /** Keys recognised whatever their case. */
  readonly keyNames?: KeyNames;
}

/** One file read. */
export interface SourceFile extends Layer {
  /** Its name in messages (relative to the root's directory); `undefined` for the root. */
  readonly file: string | undefined;
  readonly read: ReadResult;
}

/** The files read, their problems, and warnings about what was skipped. */
export interface Sources {
  readonly files: SourceFile[];
  readonly problems: Problem[];
  readonly warnings: Problem[];
}

/**
 * Reads `rootText` and every file it leads to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBudget } from "./budget.ts";
 * import { readSources } from "./sources.ts";
 * const files: Record<string, string> = { "/cfg/base.yml": "model:\n  adapter: ollama\n" };
 * const r = readSources("spring.config.import: base.yml\n", {
 *   source: "/cfg/application.yml",
 *   env: {},
 *   readSource: (path) => files[path],
 *   budget: createBudget(),
 * });
 * assert.deepEqual(r.files.map((f) => f.file), [undefined, "base.yml"]);
 * ```
 */
export function readSources(rootText: string, options: SourceOptions): Sources {
  const { env, budget } = options;
  const rootPath = resolve(options.source);
  const classpathRoot = classpathRootOf(rootPath);
  const out: Sources = { files: [], problems: [], warnings: [] };
  const seen = new Set<string>([rootPath]);
  const nameOf = (path: string) => {
    const rel = relative(dirname(rootPath), path);
    return rel.startsWith("..") ? path : rel;
  };

  const charge = (text: string, file: string | undefined, where: Problem): boolean => {
    const size = byteLength(text);
    if (size <= budget.bytes) {
      budget.bytes -= size;
      return true;
    }
    out.problems.push({ ...where, message: sizeRefusal(file, budget, options.limitHint) });
    return false;
  };

  const visit = (text: string, path: string, file: string | undefined, profileFile: boolean) => {
    const read = readYaml(text, env, {
      ...(file !== undefined ? { file } : {}),
      budget,
      ...(options.keyNames ? { keyNames: options.keyNames } : {}),
    });
    out.files.push({ value: read.value, origins: read.origins, file, read });
    out.problems.push(...read.problems);
    if (read.value === undefined && read.problems.length > 0) return;
    if (profileFile && springProfiles(read.doc, env)) {
      out.warnings.push({
        path: ["spring"],
        ...at(file),
        message: "sets spring.profiles in a profile file: ignored (Spring refuses it)",
      });
    }
    for (const loc of springImports(read.doc, env)) {
      const line = loc.offset !== undefined ? read.lineOf(loc.offset) : undefined;
      const where: Problem = {
        path: [],
        written: "spring.config.import",
        ...at(file),
        ...(line ? { line } : {}),
        message: "",
      };
      importOne(loc, path, where);
    }
  };

  const importOne = (loc: Located, importer: string, where: Problem) => {
    if (!options.readSource) {
      out.problems.push({
        ...where,
        message: `names ${
          JSON.stringify(loc.value)
        }: imports are read only when the configuration is loaded from a file`,
      });
      return;
    }
    const target = resolveLocation(loc.value, importer, classpathRoot);
    if (target.kind === "unsupported") {
      const message = `names ${JSON.stringify(loc.value)}: ${target.reason}`;
      (target.optional ? out.warnings : out.problems).push({
        ...where,
        message: target.optional ? `${message}; skipped (optional)` : message,
      });
      return;
    }
    if (seen.has(target.path)) return;
    seen.add(target.path);
    const text = readOne(target.path, where);
    if (text === undefined) {
      if (!target.optional) {
        out.problems.push({
          ...where,
          message: `names ${JSON.stringify(loc.value)} (${target.path}), which does not exist`,
        });
      }
      return;
    }
    if (text === null || !charge(text, nameOf(target.path), where)) return;
    visit(text, target.path, nameOf(target.path), false);
  };

  /** The file's text, `undefined` when missing, `null` when it could not be read (reported). */
  const readOne = (path: string, where: Problem): string | undefined | null => {
    if (seen.size > MAX_FILES) {
      out.problems.push({ ...where, message: `leads to more than ${MAX_FILES} files` });
      return null;
    }
    try {
      return options.readSource!(path, budget.bytes);
    } catch (error) {
      const message = error instanceof TooLargeError
        ? sizeRefusal(nameOf(path), budget, options.limitHint)
        : `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`;
      out.problems.push({ ...where, message });
      return null;
    }
  };

  if (!charge(rootText, undefined, { path: [], message: "" })) return out;
  visit(rootText, rootPath, undefined, false);
  if (out.problems.length > 0 || !options.readSource) return out;

  for (const profile of activeProfiles(out.files, env)) {
    const ext = extname(rootPath);
    const stem = basename(rootPath, ext);
    for (const e of [ext, ext === ".yaml" ? ".yml" : ".yaml"]) {
      const path = join(dirname(rootPath), `${stem}-${profile.value}${e}`);
      if (seen.has(path)) continue;
      const where: Problem = { path: [], written: "spring.profiles.active", message: "" };
      const text = readOne(path, where);
      if (text === undefined || text === null) continue;
      seen.add(path);
      if (charge(text, nameOf(path), where)) visit(text, path, nameOf(path), true);
      break;
    }
  }
  return out;
}

/** `SPRING_PROFILES_ACTIVE`, else the profiles named by the file of highest precedence that names any. */
function activeProfiles(files: readonly SourceFile[], env: Readonly<Record<string, string>>): Located[] {
  const fromEnv = env.SPRING_PROFILES_ACTIVE;
  if (fromEnv !== undefined) {
    return fromEnv.split(",").map((p) => ({ value: p.trim() })).filter((p) => p.value !== "");
  }
  for (let i = files.length - 1; i >= 0; i--) {
    const named = springProfiles(files[i].read.doc, env);
    if (named) return named.filter((p) => /^[\w.-]+$/.test(p.value));
  }
  return [];
}

function at(file: string | undefined): { file?: string } {
  return file === undefined ? {} : { file };
}
