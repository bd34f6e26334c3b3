/**
 * Merges the files of a configuration the way Spring Boot merges its property sources: a file of
 * higher precedence overrides a lower one key by key inside mappings, while a list (`instances`,
 * `keys`) is replaced whole — Spring binds a list from the one source that has it. An empty value
 * (`adapter:`) does not erase what a lower file says. The origins (file and line of each key)
 * follow the values, so an error names the file the winning value came from.
 *
 * @module
 */

import type { OriginNode } from "./origins.ts";
import { Origins } from "./origins.ts";

/** One file's contribution: its values and where they were written. */
export interface Layer {
  /** Plain values, normalised keys. */
  readonly value: unknown;
  /** Where each key was written. */
  readonly origins: Origins;
}

/** A mapping (not a list, not null): what merges key by key. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Merges `layers`, lowest precedence first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeLayers } from "./merge.ts";
 * import { Origins } from "./origins.ts";
 * const low = new Origins();
 * low.set(["model", "adapter"], { written: "model.adapter", line: 2, file: "base.yml" });
 * const high = new Origins();
 * high.set(["model", "list"], { written: "model.list", line: 5, file: "top.yml" });
 * const merged = mergeLayers([
 *   { value: { model: { adapter: "ollama", list: [1, 2] } }, origins: low },
 *   { value: { model: { list: [3] } }, origins: high },
 * ]);
 * assert.deepEqual(merged.value, { model: { adapter: "ollama", list: [3] } });
 * assert.equal(merged.origins.locate(["model", "adapter"]).file, "base.yml");
 * assert.equal(merged.origins.locate(["model", "list"]).file, "top.yml");
 * ```
 */
export function mergeLayers(layers: readonly Layer[]): Layer {
  if (layers.length === 0) return { value: undefined, origins: new Origins() };
  let value = layers[0].value;
  let node = layers[0].origins.root;
  for (const layer of layers.slice(1)) {
    [value, node] = merge(value, node, layer.value, layer.origins.root);
  }
  return { value, origins: new Origins(node) };
}

function merge(
  base: unknown,
  baseNode: OriginNode | undefined,
  over: unknown,
  overNode: OriginNode | undefined,
): [unknown, OriginNode] {
  if (over === undefined) {
    // An empty value, or a section only recorded: the lower value stays, and so do its origins.
    if (base !== undefined) return [base, baseNode ?? {}];
    return [undefined, overNode ?? baseNode ?? {}];
  }
  if (!isPlainObject(base) || !isPlainObject(over)) return [over, overNode ?? {}];
  const out: Record<string, unknown> = {};
  const children = new Map<string, OriginNode>();
  for (const [key, v] of Object.entries(base)) {
    define(out, key, v);
    const child = baseNode?.children?.get(key);
    if (child) children.set(key, child);
  }
  for (const [key, v] of Object.entries(over)) {
    const [merged, child] = Object.hasOwn(base, key)
      ? merge(base[key], baseNode?.children?.get(key), v, overNode?.children?.get(key))
      : [v, overNode?.children?.get(key) ?? {}];
    define(out, key, merged);
    children.set(key, child);
  }
  const origin = overNode?.origin ?? baseNode?.origin;
  return [out, { ...(origin ? { origin } : {}), children }];
}

/** Defines an own property even for keys such as `__proto__`, which plain assignment would not. */
export function define(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}
