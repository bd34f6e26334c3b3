/**
 * Write-back for the admin API: edit the YAML document (so comments and layout survive), check that
 * the result still loads, keep the previous file as `<path>.bak`, and replace the file atomically
 * (temporary file in the same directory, then rename), so a crash or a concurrent reader never
 * sees half a file.
 *
 * @module
 */

import { dirname } from "node:path";
import { type Document, parseDocument } from "yaml";
import { ConfigError, configProblem } from "./error.ts";
import type { ReadFile } from "./access.ts";
import { fileReader, type LoadResult, parseConfig } from "./load.ts";

/** Options of `updateYamlFile`. */
export interface UpdateOptions {
  /** Environment for `${VAR}` placeholders while validating the result. @default {{}} */
  readonly env?: Readonly<Record<string, string>>;
  /** Reads `key-file`s while validating. @default {fileReader(path)} */
  readonly readFile?: ReadFile;
}

/** Updates of the same file, chained so that two admin calls cannot interleave read and write. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Applies `mutate` to the YAML document of `path` and writes the result if it is a valid
 * configuration. Returns the configuration as loaded from the new text.
 *
 * @throws {ConfigError} when the file cannot be read or parsed, or the edited document is invalid
 * (the file is then left untouched).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { updateYamlFile } from "./write.ts";
 * const dir = await Deno.makeTempDir();
 * const file = `${dir}/dairouter.yaml`;
 * await Deno.writeTextFile(file, "# gateway\nmodel:\n  adapter: ollama # local\n");
 * const { config } = await updateYamlFile(file, (doc) => doc.setIn(["model", "adapter"], "vllm"));
 * assert(config.services.chat.adapter === "vllm");
 * assert((await Deno.readTextFile(file)).includes("# local"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function updateYamlFile(
  path: string,
  mutate: (doc: Document) => void,
  options: UpdateOptions = {},
): Promise<LoadResult> {
  const previous = queues.get(path) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(() =>
    update(path, mutate, options.env ?? {}, options.readFile ?? fileReader(path))
  );
  queues.set(path, next);
  // Forget the queue once idle, so the map does not grow with every file ever written.
  const cleanup = () => {
    if (queues.get(path) === next) queues.delete(path);
  };
  next.then(cleanup, cleanup);
  return next;
}

async function update(
  path: string,
  mutate: (doc: Document) => void,
  env: Readonly<Record<string, string>>,
  readFile: ReadFile,
): Promise<LoadResult> {
  let before: string;
  try {
    before = await Deno.readTextFile(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(path, [configProblem("", `cannot be read: ${reason}`)], { cause: err });
  }
  const doc = parseDocument(before, { prettyErrors: false });
  if (doc.errors.length > 0) {
    // parseConfig words syntax errors with their lines.
    parseConfig(before, { source: path, env, readFile });
  }
  mutate(doc);
  // lineWidth 0: never fold long values into multi-line scalars the author did not write.
  const after = doc.toString({ lineWidth: 0 });
  const result = parseConfig(after, { source: path, env, readFile });

  const dir = dirname(path);
  const temp = await Deno.makeTempFile({ dir, prefix: ".dairouter-", suffix: ".tmp" });
  try {
    const mode = (await Deno.stat(path)).mode;
    const file = await Deno.open(temp, { write: true, truncate: true });
    try {
      const bytes = new TextEncoder().encode(after);
      for (let offset = 0; offset < bytes.length;) offset += await file.write(bytes.subarray(offset));
      await file.sync();
    } finally {
      file.close();
    }
    if (mode !== null) await Deno.chmod(temp, mode & 0o777);
    await Deno.writeTextFile(`${path}.bak`, before);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  return result;
}
