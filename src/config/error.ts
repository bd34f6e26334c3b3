/**
 * `ConfigError`: everything wrong with a configuration file, in one error, one problem per line,
 * each naming the key path as the file wrote it and its line.
 *
 * @module
 */

/** One problem of a configuration file. */
export interface ConfigProblem {
  /** The key path as written, e.g. `model.services.chat.instances[1].weight`; `""` for the whole file. */
  readonly path: string;
  /** The last key of `path` (`weight`), or `undefined` for an index or the whole file. */
  readonly key?: string;
  /** 1-based line in the file. */
  readonly line?: number;
  /**
   * The file the key is written in, when the configuration is spread over several files by
   * `spring.config.import` and it is not the file that was loaded.
   */
  readonly file?: string;
  /** The finding, e.g. `must be >= 0, received -1`. */
  readonly message: string;
  /** The full sentence: `model.services.chat.instances[1].weight must be >= 0, received -1 (line 42)`. */
  readonly text: string;
}

/**
 * Formats one problem as a sentence: path, message, line (and file, for an imported one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { problemText } from "./error.ts";
 * assert.equal(problemText("model.adapter", "is wrong", 3), "model.adapter is wrong (line 3)");
 * assert.equal(problemText("model.adapter", "is wrong", 3, "a.yml"), "model.adapter is wrong (line 3 of a.yml)");
 * ```
 */
export function problemText(path: string, message: string, line?: number, file?: string): string {
  const subject = path === "" ? message : `${path} ${message}`;
  const where = line === undefined
    ? (file === undefined ? "" : `in ${file}`)
    : `line ${line}${file === undefined ? "" : ` of ${file}`}`;
  return where === "" ? subject : `${subject} (${where})`;
}

/** The last key of a written path (`a.b[2].c` → `c`; `a[2]` → `undefined`). */
function lastKey(path: string): string | undefined {
  const match = /(?:^|\.)([^.[\]]+)$/.exec(path);
  return match?.[1];
}

/** Builds a `ConfigProblem`. */
export function configProblem(path: string, message: string, line?: number, file?: string): ConfigProblem {
  const key = lastKey(path);
  return {
    path,
    ...(key !== undefined ? { key } : {}),
    ...(line !== undefined ? { line } : {}),
    ...(file !== undefined ? { file } : {}),
    message,
    text: problemText(path, message, line, file),
  };
}

/**
 * A configuration file that cannot be used. `path`, `line` and `key` describe the first problem;
 * `problems` lists all of them, in file order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, configProblem } from "./error.ts";
 * const err = new ConfigError("x.yaml", [configProblem("model.adapter", "must be one of openai, ollama", 3)]);
 * assert(err.message === 'Cannot load config "x.yaml": model.adapter must be one of openai, ollama (line 3)');
 * assert(err.key === "adapter" && err.line === 3);
 * ```
 */
export class ConfigError extends Error {
  /** Always `"ConfigError"`. */
  override name = "ConfigError";
  /** The file (or other source name) that was being loaded. */
  readonly source: string;
  /** Key path of the first problem, as written. */
  readonly path: string;
  /** Line of the first problem. */
  readonly line?: number;
  /** Last key of the first problem's path. */
  readonly key?: string;
  /** File of the first problem, when it is an imported one. */
  readonly file?: string;
  /** Every problem found. */
  readonly problems: readonly ConfigProblem[];
  /**
   * The absolute paths the failed load read or looked for (see `LoadResult.watched`), when it came
   * that far: a change to any of them may fix the configuration, so the watcher looks at them too.
   */
  readonly watched?: readonly string[];

  /** Builds the error from its problems (at least one), which it sorts by file, then line. */
  constructor(
    source: string,
    problems: readonly ConfigProblem[],
    options?: ErrorOptions & { readonly watched?: readonly string[] },
  ) {
    const sorted = [...problems].sort((a, b) =>
      (a.file ?? "").localeCompare(b.file ?? "") || (a.line ?? Infinity) - (b.line ?? Infinity)
    );
    const head = `Cannot load config ${JSON.stringify(source)}:`;
    const message = sorted.length === 1
      ? `${head} ${sorted[0].text}`
      : `${head} ${sorted.length} problems\n${sorted.map((p) => `  ${p.text}`).join("\n")}`;
    super(message, options);
    this.source = source;
    this.problems = sorted;
    if (options?.watched !== undefined) this.watched = options.watched;
    const firstProblem: ConfigProblem | undefined = sorted[0];
    this.path = firstProblem?.path ?? "";
    if (firstProblem?.line !== undefined) this.line = firstProblem.line;
    if (firstProblem?.key !== undefined) this.key = firstProblem.key;
    if (firstProblem?.file !== undefined) this.file = firstProblem.file;
  }
}
