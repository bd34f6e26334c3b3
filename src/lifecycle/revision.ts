/**
 * The configuration revision `/readyz` reports: the cluster's revision (0 for this replica's own
 * file) and a short digest of the running configuration, so that an operator sees at a glance
 * whether every replica runs the same one.
 *
 * @module
 */

import { sha256Hex } from "../config/digest.ts";
import type { Config } from "../config/types.ts";

/** Short digest of a config's content (not of where it was read from). */
export function configHash(config: Config): string {
  const { source: _, ...content } = config;
  return sha256Hex(JSON.stringify(content)).slice(0, 12);
}

/**
 * A `revision()` hook: `<cluster revision>-<config digest>`, `""` before a config runs. The
 * digest is computed once per config object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config/load.ts";
 * import { configRevision } from "./revision.ts";
 * const { config } = parseConfig("model: {}\n", { source: "x.yaml", env: {} });
 * const revision = configRevision(() => config, () => 3);
 * assert.match(revision(), /^3-[0-9a-f]{12}$/);
 * assert.equal(configRevision(() => undefined, () => 0)(), "");
 * ```
 */
export function configRevision(current: () => Config | undefined, cluster: () => number): () => string {
  let hashed: { config: Config; hash: string } | undefined;
  return () => {
    const config = current();
    if (!config) return "";
    if (hashed?.config !== config) hashed = { config, hash: configHash(config) };
    return `${cluster()}-${hashed.hash}`;
  };
}
