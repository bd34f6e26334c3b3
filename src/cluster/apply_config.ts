/**
 * What a replica does with a configuration another replica published on Redis (`config_sync.ts`):
 * validate it, apply it, and keep it in the config file too (an atomic rename), so that a restart
 * runs the same configuration — unless the file was edited after that publication, in which case
 * the file wins.
 *
 * @module
 */

import { parseConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../observe/logger.ts";

/** The file operations a replica needs (`Deno.*` in `main.ts`). */
export interface ConfigFileAccess {
  /** The file's modification time, ms since the epoch; 0 when unknown or missing. */
  mtime(path: string): Promise<number>;
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

/** Options of {@linkcode clusterConfigApplier}. */
export interface ClusterConfigApplierOptions {
  /** The config file this replica runs. */
  readonly file: string;
  /** Environment for `${VAR}` placeholders. */
  readonly env: Readonly<Record<string, string>>;
  readonly files: ConfigFileAccess;
  /** Where the document is written before it is renamed over `file` (unique to this replica). */
  readonly tempFile: string;
  /** The gateway, once built (documents that arrive before it are ignored). */
  readonly gateway: () => { reload(config: Config): void; readonly logger: Logger } | undefined;
}

/**
 * The `applyConfig` of `createRedisCluster`: validates and applies a published document (throws
 * when it is invalid), then writes it to the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clusterConfigApplier } from "./apply_config.ts";
 * const written: string[] = [];
 * const apply = clusterConfigApplier({
 *   file: "c.yaml",
 *   env: {},
 *   tempFile: "c.yaml.tmp",
 *   files: {
 *     mtime: () => Promise.resolve(0),
 *     readTextFile: () => Promise.resolve(""),
 *     writeTextFile: (_p, text) => (written.push(text), Promise.resolve()),
 *     rename: () => Promise.resolve(),
 *   },
 *   gateway: () => undefined,
 * });
 * await apply("model: {}\n", 1, 1000); // no gateway yet: ignored
 * assert.deepEqual(written, []);
 * ```
 */
export function clusterConfigApplier(
  options: ClusterConfigApplierOptions,
): (yaml: string, rev: number, at: number) => Promise<void> {
  const { file, env, files, tempFile } = options;
  return async (yaml, rev, at) => {
    const gateway = options.gateway();
    if (!gateway) return;
    const mtime = await files.mtime(file);
    if (at > 0 && mtime > at) {
      gateway.logger.info("config file is newer than the cluster's; keeping the file", {
        event: "config",
        revision: rev,
      });
      return;
    }
    const { config: next } = parseConfig(yaml, { source: file, env });
    gateway.reload(next);
    gateway.logger.info("cluster configuration applied", { event: "config", revision: rev });
    // Kept in the file too, so that a restart runs the same configuration (atomic rename).
    await files.writeTextFile(tempFile, yaml).then(() => files.rename(tempFile, file)).catch((error) =>
      gateway.logger.warn("cluster configuration not written to the file", {
        event: "config",
        error: String(error),
      })
    );
  };
}
