/**
 * Configuration: the JAiRouter-compatible YAML loader (`parseConfig`, `loadConfigFile`, following
 * `spring.config.import`), the file watcher and the off-thread reload, the redacted view and the
 * write-back used by the admin API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./mod.ts";
 * const { config } = parseConfig("model:\n  adapter: ollama\n", { source: "inline.yaml", env: {} });
 * assert(config.services.chat.adapter === "ollama" && config.server.port === 8080);
 * ```
 *
 * @module
 */

export {
  ConfigError,
  type ConfigProblem,
  DEFAULT_MAX_CONFIG_BYTES,
  fileReader,
  loadConfigFile,
  type LoadResult,
  parseConfig,
  type ParseOptions,
  type ReadFile,
} from "./load.ts";
export { sha256Hex } from "./access.ts";
export { type ListenAddress, parseListen } from "./schema_access.ts";
export { isSecretHeader, redactConfig, REDACTED } from "./redact.ts";
export {
  type ConfigWatch,
  type Disposer,
  type FilesWatch,
  watchConfig,
  watchConfigFiles,
  watchFiles,
  type WatchOptions,
} from "./watch.ts";
export { createReloader, loadOffThread, type OffThreadOptions, type SpawnLoader } from "./reload.ts";
export { type UpdateOptions, updateYamlFile } from "./write.ts";
export { parseDuration, parseSize, type UnitResult } from "./units.ts";
export type * from "./types.ts";
