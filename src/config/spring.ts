/**
 * The two Spring Boot settings that decide which files make up a configuration:
 * `spring.config.import` (files to load on top of this one) and `spring.profiles.active` /
 * `include` (which `application-<profile>.yml` to load on top of everything). They are read from
 * the syntax tree, since the `spring:` section is otherwise foreign to DAiRouter, in any of the
 * spellings Spring's relaxed binding accepts (`spring: { config: { import: … } } }`,
 * `spring.config.import: …`, a list or a comma-separated string).
 *
 * Locations follow Spring Boot's rules (reference: "Importing Additional Data"):
 * - `optional:` — a missing file is skipped instead of refused;
 * - `classpath:x` — relative to the classpath root: the directory of the root file (JAiRouter's
 *   `src/main/resources`, where `application.yml` is);
 * - `file:x` — a path on its own; a relative one is relative to the working directory;
 * - `x` — relative to the file that declares the import.
 *
 * @module
 */

import { dirname, isAbsolute, join, resolve } from "node:path";
import { type Document, isMap, isPair, isScalar, isSeq, type Node } from "yaml";
import { interpolate } from "./interpolate.ts";

/** One value found in the document, with the offset where it was written. */
export interface Located {
  readonly value: string;
  readonly offset?: number;
}

const relaxed = (segment: string) => segment.toLowerCase().replace(/[-_]/g, "");

/** Finds the node of a dotted property, whichever way its segments are split across mappings. */
function findProperty(node: unknown, segments: readonly string[]): Node | undefined {
  if (segments.length === 0) return node as Node;
  if (!isMap(node)) return undefined;
  for (const pair of node.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const parts = String(pair.key.value).split(".").map(relaxed);
    if (parts.length > segments.length || !parts.every((p, i) => p === segments[i])) continue;
    const found = findProperty(pair.value, segments.slice(parts.length));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The items of a list or comma-separated string property, placeholders filled from `env`. */
function listProperty(
  doc: Document,
  property: string,
  env: Readonly<Record<string, string>>,
): Located[] | undefined {
  const node = findProperty(doc.contents, property.split(".").map(relaxed));
  if (node === undefined || node === null) return undefined;
  const scalars = isSeq(node) ? node.items : [node];
  const out: Located[] = [];
  for (const item of scalars) {
    if (!isScalar(item) || item.value === null) continue;
    const filled = interpolate(String(item.value), env);
    const text = filled.ok ? filled.value : String(item.value);
    for (const part of text.split(",")) {
      const value = part.trim();
      if (value !== "") out.push({ value, ...(item.range ? { offset: item.range[0] } : {}) });
    }
  }
  return out;
}

/**
 * The `spring.config.import` locations of `doc`, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDocument } from "yaml";
 * import { springImports } from "./spring.ts";
 * const doc = parseDocument("spring:\n  config:\n    import:\n      - classpath:a.yml\n      - optional:b.yml\n");
 * assert.deepEqual(springImports(doc, {}).map((l) => l.value), ["classpath:a.yml", "optional:b.yml"]);
 * const flat = parseDocument("spring.config.import: 'x.yml, y.yml'\n");
 * assert.deepEqual(springImports(flat, {}).map((l) => l.value), ["x.yml", "y.yml"]);
 * ```
 */
export function springImports(doc: Document, env: Readonly<Record<string, string>>): Located[] {
  return listProperty(doc, "spring.config.import", env) ?? [];
}

/**
 * The profiles `doc` activates (`spring.profiles.include`, then `spring.profiles.active`), or
 * `undefined` when it names none.
 */
export function springProfiles(doc: Document, env: Readonly<Record<string, string>>): Located[] | undefined {
  const include = listProperty(doc, "spring.profiles.include", env);
  const active = listProperty(doc, "spring.profiles.active", env);
  if (include === undefined && active === undefined) return undefined;
  return [...(include ?? []), ...(active ?? [])];
}

/** A resolved import location. */
export type Location =
  | { readonly kind: "file"; readonly path: string; readonly optional: boolean }
  | { readonly kind: "unsupported"; readonly reason: string; readonly optional: boolean };

/**
 * Resolves one `spring.config.import` location declared in `importer`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLocation } from "./spring.ts";
 * const r = resolveLocation("optional:classpath:config/a.yml", "/res/sub/b.yml", "/res");
 * assert.deepEqual(r, { kind: "file", path: "/res/config/a.yml", optional: true });
 * assert.equal(resolveLocation("c.yml", "/res/sub/b.yml", "/res").kind, "file");
 * assert.equal(resolveLocation("configserver:", "/res/b.yml", "/res").kind, "unsupported");
 * ```
 */
export function resolveLocation(raw: string, importer: string, classpathRoot: string): Location {
  let text = raw.trim();
  const optional = text.startsWith("optional:");
  if (optional) text = text.slice("optional:".length);
  let path: string;
  if (text.startsWith("classpath:")) {
    path = join(classpathRoot, text.slice("classpath:".length).replace(/^\/+/, ""));
  } else if (text.startsWith("file:")) path = resolve(text.slice("file:".length));
  else if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !/^[a-z]:[\\/]/i.test(text)) {
    return {
      kind: "unsupported",
      optional,
      reason: `${text.split(":")[0]}: locations cannot be read by DAiRouter`,
    };
  } else path = isAbsolute(text) ? text : join(dirname(importer), text);
  if (path.endsWith("/") || path.endsWith("\\")) {
    return { kind: "unsupported", optional, reason: "directory imports are not supported: name the files" };
  }
  if (!/\.ya?ml$/i.test(path)) {
    return { kind: "unsupported", optional, reason: "only YAML files (.yml, .yaml) can be imported" };
  }
  return { kind: "file", path, optional };
}

/**
 * The classpath root for `rootFile`: the directory it sits in — for JAiRouter, `src/main/resources`
 * (or wherever that tree was copied), the directory `application.yml` is in.
 */
export function classpathRootOf(rootFile: string): string {
  return dirname(resolve(rootFile));
}
