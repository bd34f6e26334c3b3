/**
 * Spring Boot's relaxed binding of keys, as JAiRouter's files rely on it: a dotted key
 * (`jairouter.security.enabled: true`) is the nested keys it names, merged with the same section
 * written nested; `keys.ts` `normalizeKey` reads a key whatever its case. A security setting written
 * either way is therefore honoured or refused, never dropped as an unknown key.
 *
 * @module
 */

import {
  keyModeAt,
  type KeyNames,
  normalizeKey,
  type PathSegment,
  type ReadPolicy,
  readPolicy,
} from "./keys.ts";
import { define, isPlainObject } from "./merge.ts";

/**
 * The normalised keys a written key stands for, and how far they are read. A dotted key
 * (`jairouter.security.enabled: true`) is the nested keys it names, as Spring Boot reads it —
 * except where keys are data (`headers`, a fallback body, model names), which stay whole. The
 * keys stop at the first one that is not read (`record`: kept so it can be reported; `skip`).
 */
export function keysOf(
  path: readonly PathSegment[],
  rawKey: string,
  text: boolean,
  names: KeyNames | undefined,
): { keys: string[]; policy: ReadPolicy } {
  const split = text && keyModeAt(path) === "normalize" ? rawKey.split(".") : [rawKey];
  // `a..b`, `.a`, `a.`: not a path Spring would bind; the key stays as written.
  const parts = split.includes("") ? [rawKey] : split;
  const keys: string[] = [];
  for (const part of parts) {
    const key = normalizeKey([...path, ...keys], part, names);
    keys.push(key);
    const policy = readPolicy([...path, ...keys]);
    if (policy !== "read") return { keys, policy };
  }
  return { keys, policy: "read" };
}

/**
 * Puts `value` at `keys` below `out`, merging with mappings already there (a dotted key and a
 * nested one naming the same section); `false` when a value would replace another. Mappings met
 * on the way are copied, not changed: one built for an anchor may be shared by its aliases.
 */
export function place(out: Record<string, unknown>, keys: readonly string[], value: unknown): boolean {
  const [key, ...rest] = keys;
  const existing = Object.hasOwn(out, key) ? out[key] : undefined;
  if (rest.length > 0) {
    if (existing !== undefined && !isPlainObject(existing)) return false;
    const inner: Record<string, unknown> = existing === undefined ? {} : { ...existing };
    const ok = place(inner, rest, value);
    define(out, key, inner);
    return ok;
  }
  if (existing === undefined) {
    define(out, key, value);
    return true;
  }
  if (!isPlainObject(existing) || !isPlainObject(value)) return value === undefined;
  const merged: Record<string, unknown> = { ...existing };
  let ok = true;
  for (const [k, v] of Object.entries(value)) ok = place(merged, [k], v) && ok;
  define(out, key, merged);
  return ok;
}
