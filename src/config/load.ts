/**
 * The configuration loader: YAML text → validated, frozen `Config`, or one `ConfigError` that lists
 * every problem with its key path (as written), line and — for imported files — file.
 *
 * Pipeline: `sources.ts` reads the file and what its `spring.config.import` and Spring profiles
 * lead to, each through `locate.ts` (keys normalised, `${ENV}` filled, origins kept, within the read
 * budget of `budget.ts`); `merge.ts` merges them as Spring does; `schema.ts` validates, and
 * `known_keys.ts` sorts unknown keys into typos (errors) and JAiRouter/Spring keys (warnings);
 * `resolve.ts` applies the global → service → default inheritance and maps JAiRouter's security
 * section; `freeze.ts` freezes.
 *
 * @module
 */

import { dirname, isAbsolute, join, resolve } from "node:path";
import type { ReadFile } from "./access.ts";
import { createBudget, DEFAULT_MAX_CONFIG_BYTES, sizeRefusal } from "./budget.ts";
import { ConfigError, type ConfigProblem, configProblem, problemText } from "./error.ts";
import { deepFreeze } from "./freeze.ts";
import { fromZodIssues, valueAt } from "./issues.ts";
import type { KeyNames, PathSegment } from "./keys.ts";
import { classifyUnknownKey, FOREIGN_KEYS } from "./known_keys.ts";
import { mergeLayers } from "./merge.ts";
import type { Origins } from "./origins.ts";
import { isWithin, type Problem, type Warning } from "./problem.ts";
import { readBoundedSync, type ReadSource, TooLargeError } from "./read.ts";
import { resolveConfig } from "./resolve.ts";
import { fileSchema } from "./schema.ts";
import { readSources } from "./sources.ts";
import { schemaKeyNames } from "./suggest.ts";
import type { Config, ConfigWarning } from "./types.ts";

export type { ReadFile } from "./access.ts";
export { ConfigError } from "./error.ts";
export type { ConfigProblem } from "./error.ts";
export { DEFAULT_MAX_CONFIG_BYTES } from "./budget.ts";
export type { ReadSource } from "./read.ts";

/** Appended to a size refusal: the one way to raise the limit. */
const LIMIT_HINT = " (raise it with --max-config-size)";

/** Options of `parseConfig`. */
export interface ParseOptions {
  /** Name of the file, for messages and `Config.source`; imports are relative to it. */
  readonly source: string;
  /** Environment for `${VAR}` placeholders (passed in: `src/` never reads `Deno.env`). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Reads the files the config names (`auth.keys[].key-file`). Without it such a key is a
   * `ConfigError`; `loadConfigFile` passes {@linkcode fileReader}.
   */
  readonly readFile?: ReadFile;
  /**
   * Reads the files `spring.config.import` and Spring profiles lead to. Without it a file that
   * imports others is a `ConfigError`; `loadConfigFile` passes a bounded file reader.
   */
  readonly readSource?: ReadSource;
  /**
   * Cap on the bytes of all the files of the configuration together.
   * @default {DEFAULT_MAX_CONFIG_BYTES} (1 MiB)
   */
  readonly maxBytes?: number;
}

/** A loaded configuration and the non-fatal findings; both frozen. */
export interface LoadResult {
  /** The validated configuration. */
  readonly config: Config;
  /** Ignored keys, duplicate instances, YAML warnings. `message` is a full sentence with path and line. */
  readonly warnings: readonly ConfigWarning[];
  /** The files it was read from: the source first, then imported and profile files as named in messages. */
  readonly files: readonly string[];
  /**
   * Set by `loadConfigFile`: the absolute path of every file the load read or looked for — the
   * source, imported and profile files, those an optional import or a profile names that do not
   * exist (yet), and `key-file`s. What the watcher watches: a change to any of them may change the
   * configuration.
   */
  readonly watched?: readonly string[];
}

let names: KeyNames | undefined;
/** The keys of the schema and of JAiRouter's and Spring's sections, recognised whatever their case. */
const keyNames = (): KeyNames => names ??= schemaKeyNames(fileSchema, FOREIGN_KEYS);

/**
 * Parses and validates a configuration text. Pure unless `readSource` is given (imports).
 *
 * @throws {ConfigError} listing every problem, e.g.
 * `Cannot load config "x.yaml": model.services.chat.instances[1].weight must be >= 0, received -1 (line 42)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./load.ts";
 * const yaml = `
 * model:
 *   services:
 *     chat:
 *       load-balance: { type: round-robin }
 *       instances:
 *         - name: llama3
 *           base-url: "http://127.0.0.1:\${OLLAMA_PORT:-11434}/"
 * `;
 * const { config, warnings } = parseConfig(yaml, { source: "demo.yaml", env: {} });
 * const chat = config.services.chat;
 * assert(chat.loadBalance.type === "round-robin");
 * assert(chat.instances[0].baseUrl === "http://127.0.0.1:11434");
 * assert(chat.instances[0].id === "chat/llama3@http://127.0.0.1:11434");
 * assert(warnings.length === 0 && Object.isFrozen(config));
 * ```
 */
export function parseConfig(text: string, options: ParseOptions): LoadResult {
  const { source, env, readFile } = options;
  const budget = createBudget(options.maxBytes ?? DEFAULT_MAX_CONFIG_BYTES);
  const tree = readSources(text, {
    source,
    env,
    budget,
    limitHint: LIMIT_HINT,
    keyNames: keyNames(),
    ...pick(options),
  });
  const merged = mergeLayers(tree.files);
  const origins = merged.origins;
  const fail = (problems: readonly Problem[]): never => {
    throw new ConfigError(source, problems.map((p) => toConfigProblem(p, origins)));
  };
  // A placeholder that cannot be filled matters only where its file's value wins.
  const unresolved = tree.files.flatMap((f) => f.read.unresolved.map((path) => ({ path, file: f.file })));
  const overridden = (p: Problem) =>
    unresolved.some((u) => u.path === p.path && origins.locate(p.path).file !== u.file);
  const readProblems = tree.problems.filter((p) => !overridden(p));
  if (
    readProblems.some((p) => p.path.length === 0) ||
    tree.files.some((f) => f.value === undefined && f.read.problems.length > 0)
  ) {
    fail(readProblems);
  }
  const data = merged.value;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    fail([{ path: [], message: "the file must be a YAML mapping with a model: section at its root" }]);
  }

  const checked = validate(data as Record<string, unknown>, origins);
  const unresolvedPaths = unresolved.map((u) => u.path);
  const problems = [
    ...readProblems.filter((p) => !checked.ignored.some((k) => isWithin(p.path, k))),
    // A failed placeholder leaves its raw text behind; a type error on top of it would be noise.
    ...checked.problems.filter((p) => !unresolvedPaths.some((u) => isWithin(p.path, u))),
  ];
  if (problems.length > 0 || !checked.file) fail(problems);

  const resolved = resolveConfig(checked.file!, source, origins, readFile);
  if (resolved.problems.length > 0) fail(resolved.problems);
  const warnings: ConfigWarning[] = [
    ...tree.files.flatMap((f) => f.read.yamlWarnings.map((w) => ({ ...w, kind: "yaml" as const }))),
    ...tree.warnings.map((w) => ({ ...w, kind: "import" as const })),
    ...checked.warnings,
    ...resolved.warnings,
  ].map((w) => toWarning(w, origins)).sort((a, b) =>
    (a.file ?? "").localeCompare(b.file ?? "") || (a.line ?? Infinity) - (b.line ?? Infinity)
  );
  const files = [source, ...tree.files.slice(1).map((f) => f.file ?? source)];
  return deepFreeze({ config: resolved.config, warnings, files });
}

function pick(options: ParseOptions): { readSource?: ReadSource } {
  return options.readSource ? { readSource: options.readSource } : {};
}

/** Schema validation with unknown keys sorted: typos are problems, JAiRouter/Spring keys warnings. */
function validate(data: Record<string, unknown>, origins: Origins) {
  const first = fileSchema.safeParse(data);
  if (first.success) return { file: first.data, problems: [], warnings: [], ignored: [] };
  const report = fromZodIssues(first.error.issues, data);
  const problems: Problem[] = [...report.problems];
  const warnings: Warning[] = [];
  const ignored: PathSegment[][] = [];
  for (const path of report.unknownKeys) {
    const written = origins.locate(path).written.split(/[.[]/).pop() ?? String(path[path.length - 1]);
    // `x-` root keys are the author's own (a home for YAML anchors, as in Compose files).
    const own = path.length === 1 && written.startsWith("x-");
    const sorted = own ? { level: "silent" } as const : classifyUnknownKey(fileSchema, path, written);
    if (sorted.level === "error") problems.push({ path, message: sorted.message });
    else {
      if (sorted.level === "warning") warnings.push({ kind: "unknown-key", path, message: sorted.message });
      ignored.push(path);
    }
  }
  const outside = (p: Problem) => !ignored.some((k) => isWithin(p.path, k));
  const kept = problems.filter(outside);
  if (kept.length > 0) return { problems: kept, warnings, ignored };
  // Only ignorable keys were found: drop them and validate what is left.
  for (const key of ignored) {
    const parent = valueAt(data, key.slice(0, -1)) as Record<PathSegment, unknown>;
    delete parent[key[key.length - 1]];
  }
  const second = fileSchema.safeParse(data);
  if (!second.success) {
    return { problems: fromZodIssues(second.error.issues, data).problems, warnings, ignored };
  }
  return { file: second.data, problems: [], warnings, ignored };
}

/**
 * Reads a configuration file (and the files it imports) and parses it with `parseConfig`. A file
 * that cannot be read, or is larger than `maxBytes`, is a `ConfigError` too, so the caller has one
 * error to report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, loadConfigFile } from "./load.ts";
 * await assert.rejects(loadConfigFile("./no-such-file.yaml", {}), ConfigError);
 * ```
 */
export function loadConfigFile(
  path: string,
  env: Readonly<Record<string, string>>,
  options: { readonly maxBytes?: number } = {},
): Promise<LoadResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CONFIG_BYTES;
  // Every path looked at, found or not, in the order read; the source first.
  const looked = new Set<string>([resolve(path)]);
  const readKeyFile = fileReader(path);
  const readFile: ReadFile = (file) => {
    looked.add(resolve(dirname(path), file));
    return readKeyFile(file);
  };
  const readSource: ReadSource = (file, max) => {
    looked.add(resolve(file));
    return readBoundedSync(file, max);
  };
  try {
    let text: string | undefined;
    try {
      text = readBoundedSync(path, maxBytes);
    } catch (err) {
      const reason = err instanceof TooLargeError
        ? sizeRefusal(undefined, createBudget(maxBytes), LIMIT_HINT)
        : `cannot be read: ${err instanceof Error ? err.message : String(err)}`;
      throw new ConfigError(path, [configProblem("", reason)], { cause: err });
    }
    if (text === undefined) throw new ConfigError(path, [configProblem("", "cannot be read: no such file")]);
    const result = parseConfig(text, { source: path, env, readFile, readSource, maxBytes });
    return Promise.resolve(deepFreeze({ ...result, watched: [...looked] }));
  } catch (err) {
    return Promise.reject(
      err instanceof ConfigError && err.watched === undefined
        ? new ConfigError(err.source, err.problems, { cause: err.cause, watched: [...looked] })
        : err,
    );
  }
}

/**
 * The reader `loadConfigFile` uses for `key-file`: relative paths are relative to the directory of
 * the config file (not the working directory, which systemd sets to `/`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileReader } from "./load.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/client.key`, "sk-local-0123456789\n");
 * assert(fileReader(`${dir}/dairouter.yaml`)("client.key") === "sk-local-0123456789\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function fileReader(configPath: string): ReadFile {
  const base = dirname(configPath);
  return (path) => Deno.readTextFileSync(isAbsolute(path) ? path : join(base, path));
}

function toConfigProblem(problem: Problem, origins: Origins): ConfigProblem {
  const origin = origins.locate(problem.path);
  let message = problem.message;
  if (problem.path.length === 1 && problem.path[0] === "model" && message === "is required") {
    message = "is required: a JAiRouter configuration has a model: section at its root";
  }
  const file = problem.line !== undefined ? problem.file : problem.file ?? origin.file;
  return configProblem(problem.written ?? origin.written, message, problem.line ?? origin.line, file);
}

function toWarning(problem: Warning, origins: Origins): ConfigWarning {
  const origin = origins.locate(problem.path);
  const line = problem.line ?? origin.line;
  const file = problem.line !== undefined ? problem.file : problem.file ?? origin.file;
  const path = problem.written ?? origin.written;
  return {
    kind: problem.kind,
    message: problemText(path, problem.message, line, file),
    path,
    ...(line !== undefined ? { line } : {}),
    ...(file !== undefined ? { file } : {}),
  };
}
