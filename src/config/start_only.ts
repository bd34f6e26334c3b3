/**
 * Keys read once, when the gateway starts — its listener, its workers, its state backend, its log
 * output — and not by a reload: a reload that changes them applies the rest and says which wait
 * for a restart, by name only (`state.url` may hold a password).
 *
 * @module
 */

import type { Config } from "./types.ts";

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The start-only keys whose values differ between `before` (the config the gateway started with)
 * and `after`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./load.ts";
 * import { startOnlyChanges } from "./start_only.ts";
 * const model = "model: { services: { chat: { instances: [] } } }\n";
 * const load = (text: string) => parseConfig(model + text, { source: "c.yaml", env: {} }).config;
 * const before = load("state: { backend: redis, url: redis://127.0.0.1:6379, on-unavailable: local }\n");
 * const after = load("state: { backend: redis, url: redis://127.0.0.1:6379, on-unavailable: deny }\n");
 * assert.deepEqual(startOnlyChanges(before, after), ["state.on-unavailable"]);
 * assert.deepEqual(startOnlyChanges(before, before), []);
 * ```
 */
export function startOnlyChanges(before: Config, after: Config): string[] {
  const changed: string[] = [];
  if (before.server.host !== after.server.host) changed.push("server.host");
  if (before.server.port !== after.server.port) changed.push("server.port");
  if (before.server.workers !== after.server.workers) changed.push("server.workers");
  if (before.log.maxPendingBytes !== after.log.maxPendingBytes) changed.push("log.max-pending-bytes");
  const a = before.state as unknown as Record<string, unknown>;
  const b = after.state as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) changed.push(`state.${kebab(key)}`);
  }
  return changed;
}
