/**
 * Write-back for the admin API: edit the YAML document (so comments and layout survive — flow
 * collections keep the spacing they were written with, `["a"]` stays `["a"]`), check that the
 * result still loads, keep the previous file as `<path>.bak` (with the file's mode: it holds the
 * same secrets), and replace the file atomically (temporary file in the same directory, then
 * rename), so a crash or a concurrent reader never sees half a file.
 *
 * A configuration spread over several files by `spring.config.import` is not edited: the file
 * named in the change may be overridden by another, so the change could silently not apply.
 *
 * @module
 */

import { dirname } from "node:path";
import { type Document, parseDocument } from "yaml";
import { DEFAULT_MAX_CONFIG_BYTES, sizeRefusal } from "./budget.ts";
import { ConfigError, configProblem } from "./error.ts";
import type { ReadFile } from "./access.ts";
import { keepFlowSpacing } from "./flow_style.ts";
import { fileReader, type LoadResult, parseConfig } from "./load.ts";
import { readBoundedSync, TooLargeError } from "./read.ts";

/** Options of `updateYamlFile`. */
export interface UpdateOptions {
  /** Environment for `${VAR}` placeholders while validating the result. @default {{}} */
  readonly env?: Readonly<Record<string, string>>;
  /** Reads `key-file`s while validating. @default {fileReader(path)} */
  readonly readFile?: ReadFile;
  /** Cap on the file's bytes. @default {DEFAULT_MAX_CONFIG_BYTES} (1 MiB) */
  readonly maxBytes?: number;
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
    update(path, mutate, {
      env: options.env ?? {},
      readFile: options.readFile ?? fileReader(path),
      maxBytes: options.maxBytes ?? DEFAULT_MAX_CONFIG_BYTES,
    })
  );
  queues.set(path, next);
  // Forget the queue once idle, so the map does not grow with every file ever written.
  const cleanup = () => {
    if (queues.get(path) === next) queues.delete(path);
  };
  next.then(cleanup, cleanup);
  return next;
}

interface Settings {
  readonly env: Readonly<Record<string, string>>;
  readonly readFile: ReadFile;
  readonly maxBytes: number;
}

async function update(
  path: string,
  mutate: (doc: Document) => void,
  settings: Settings,
): Promise<LoadResult> {
  const options = { source: path, ...settings, readSource: readBoundedSync };
  const before = readSource(path, settings.maxBytes);
  // uniqueKeys: false — the library's duplicate check is quadratic; parseConfig finds duplicates.
  const doc = parseDocument(before, { prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    // parseConfig words syntax errors with their lines.
    parseConfig(before, options);
  }
  keepFlowSpacing(doc, before);
  mutate(doc);
  // lineWidth 0: never fold long values into multi-line scalars the author did not write.
  // Aliases stay aliases here; the limits on their expansion apply when the result is parsed.
  const after = doc.toString({ lineWidth: 0 });
  const result = parseConfig(after, options);
  if (result.files.length > 1) {
    throw new ConfigError(path, [
      configProblem(
        "spring.config.import",
        `spreads the configuration over ${result.files.length} files, which the admin API does not edit ` +
          "(another file could override the change): change the files by hand, the gateway reloads them",
      ),
    ]);
  }

  const mode = (await Deno.stat(path)).mode;
  // The backup holds what the file held (upstream keys, the admin token's digest…): it gets the
  // file's mode, never the umask's default (0644 let every local user read a 0640 config's secrets).
  await replaceFile(`${path}.bak`, before, mode);
  await replaceFile(path, after, mode);
  return result;
}

/**
 * Replaces `path` by a file holding `text`, atomically: written to a temporary file in the same
 * directory (created 0600), synced, given `mode`, then renamed over `path`. Readers see the old
 * file or the new one, and the new one is never readable by more than `mode` allows, not even for
 * an instant (a file written in place keeps the mode it had, and a new one gets the umask's).
 */
async function replaceFile(path: string, text: string, mode: number | null): Promise<void> {
  const temp = await Deno.makeTempFile({ dir: dirname(path), prefix: ".dairouter-", suffix: ".tmp" });
  try {
    const file = await Deno.open(temp, { write: true, truncate: true });
    try {
      const bytes = new TextEncoder().encode(text);
      for (let offset = 0; offset < bytes.length;) offset += await file.write(bytes.subarray(offset));
      await file.sync();
    } finally {
      file.close();
    }
    if (mode !== null) await Deno.chmod(temp, mode & 0o777);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

function readSource(path: string, maxBytes: number): string {
  try {
    const text = readBoundedSync(path, maxBytes);
    if (text === undefined) throw new Deno.errors.NotFound("no such file");
    return text;
  } catch (err) {
    const reason = err instanceof TooLargeError
      ? sizeRefusal(undefined, { limit: maxBytes, bytes: maxBytes, aliasNodes: 0 })
      : `cannot be read: ${err instanceof Error ? err.message : String(err)}`;
    throw new ConfigError(path, [configProblem("", reason)], { cause: err });
  }
}
