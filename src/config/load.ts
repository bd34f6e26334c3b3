/**
 * The configuration loader: YAML text → validated, frozen `Config`, or one `ConfigError` that lists
 * every problem with its key path (as written) and line.
 *
 * Pipeline: `locate.ts` parses the YAML, normalises keys and fills `${ENV}` placeholders while
 * remembering where each key was written; `schema.ts` validates; `issues.ts` words the findings;
 * `resolve.ts` applies the global → service → default inheritance; `freeze.ts` freezes.
 *
 * @module
 */

import { dirname, isAbsolute, join } from "node:path";
import type { ReadFile } from "./access.ts";
import { ConfigError, type ConfigProblem, configProblem, problemText } from "./error.ts";
import { deepFreeze } from "./freeze.ts";
import { fromZodIssues, valueAt } from "./issues.ts";
import { type PathSegment, SPRING_ROOT_KEYS } from "./keys.ts";
import { type Origins, readYaml } from "./locate.ts";
import { isWithin, type Problem, type Warning } from "./problem.ts";
import { resolveConfig } from "./resolve.ts";
import { fileSchema } from "./schema.ts";
import type { Config, ConfigWarning } from "./types.ts";

export type { ReadFile } from "./access.ts";
export { ConfigError } from "./error.ts";
export type { ConfigProblem } from "./error.ts";

/** Options of `parseConfig`. */
export interface ParseOptions {
  /** Name of the file, for messages and `Config.source`. */
  readonly source: string;
  /** Environment for `${VAR}` placeholders (passed in: `src/` never reads `Deno.env`). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Reads the files the config names (`auth.keys[].key-file`). Without it such a key is a
   * `ConfigError`; `loadConfigFile` passes {@linkcode fileReader}.
   */
  readonly readFile?: ReadFile;
}

/** A loaded configuration and the non-fatal findings; both frozen. */
export interface LoadResult {
  /** The validated configuration. */
  readonly config: Config;
  /** Ignored keys, duplicate instances, YAML warnings. `message` is a full sentence with path and line. */
  readonly warnings: readonly ConfigWarning[];
}

/**
 * Parses and validates a configuration text. Pure: no file or environment access.
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
  const read = readYaml(text, env);
  const origins = read.origins;
  const fail = (problems: readonly Problem[]): never => {
    throw new ConfigError(source, problems.map((p) => toConfigProblem(p, origins)));
  };
  if (read.problems.length > 0 && read.value === undefined) fail(read.problems);
  const data = read.value;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    fail([{ path: [], message: "the file must be a YAML mapping with a model: section at its root" }]);
  }

  let parsed = fileSchema.safeParse(data);
  const report = parsed.success
    ? { problems: [], unknownKeys: [] }
    : fromZodIssues(parsed.error.issues, data);
  const ignored = report.unknownKeys;
  const outside = (p: Problem) => !ignored.some((k) => isWithin(p.path, k));
  const problems = [
    ...read.problems.filter(outside),
    // A failed placeholder leaves its raw text behind; a type error on top of it would be noise.
    ...report.problems.filter((p) => outside(p) && !read.unresolved.some((u) => isWithin(p.path, u))),
  ];
  if (problems.length > 0) fail(problems);

  if (!parsed.success) {
    // Only unknown keys were found: drop them and validate what is left.
    for (const key of ignored) {
      const parent = valueAt(data, key.slice(0, -1)) as Record<PathSegment, unknown>;
      delete parent[key[key.length - 1]];
    }
    parsed = fileSchema.safeParse(data);
    if (!parsed.success) fail(fromZodIssues(parsed.error.issues, data).problems);
  }
  if (!parsed.success) throw new Error("unreachable: validation failed without problems");

  const resolved = resolveConfig(parsed.data, source, origins, readFile);
  if (resolved.problems.length > 0) fail(resolved.problems);
  const warnings: ConfigWarning[] = [
    ...read.yamlWarnings.map((w) => toWarning({ ...w, kind: "yaml" }, origins)),
    ...ignored.map((path) =>
      toWarning({ kind: "unknown-key", path, message: ignoredMessage(path) }, origins)
    ),
    ...resolved.warnings.map((w) => toWarning(w, origins)),
  ].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  return deepFreeze({ config: resolved.config, warnings });
}

/**
 * Reads a configuration file and parses it with `parseConfig`. A file that cannot be read is a
 * `ConfigError` too, so the caller has one error to report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, loadConfigFile } from "./load.ts";
 * try {
 *   await loadConfigFile("./no-such-file.yaml", {});
 * } catch (err) {
 *   assert(err instanceof ConfigError);
 * }
 * ```
 */
export async function loadConfigFile(
  path: string,
  env: Readonly<Record<string, string>>,
): Promise<LoadResult> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(path, [configProblem("", `cannot be read: ${reason}`)], { cause: err });
  }
  return parseConfig(text, { source: path, env, readFile: fileReader(path) });
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

function ignoredMessage(path: readonly PathSegment[]): string {
  if (path.length === 1) {
    const key = String(path[0]);
    return SPRING_ROOT_KEYS.has(key)
      ? "is a Spring Boot setting, not a DAiRouter one: ignored"
      : "is not a DAiRouter section (model, server, log, state, auth, admin, console): ignored";
  }
  return "is not a known key: ignored";
}

function toConfigProblem(problem: Problem, origins: Origins): ConfigProblem {
  const origin = origins.locate(problem.path);
  let message = problem.message;
  if (problem.path.length === 1 && problem.path[0] === "model" && message === "is required") {
    message = "is required: a JAiRouter configuration has a model: section at its root";
  }
  return configProblem(problem.written ?? origin.written, message, problem.line ?? origin.line);
}

function toWarning(problem: Warning, origins: Origins): ConfigWarning {
  const origin = origins.locate(problem.path);
  const line = problem.line ?? origin.line;
  return {
    kind: problem.kind,
    message: problemText(origin.written, problem.message, line),
    path: origin.written,
    ...(line !== undefined ? { line } : {}),
  };
}
