/**
 * "Did you mean …?" for unknown keys: the keys valid at the position of a typo are read from the
 * schema itself, and the closest one (by edit distance, a transposition counting as one edit) is
 * suggested when it is close enough to be what the author meant.
 *
 * @module
 */

import type { z } from "zod";
import { foldKey, kebabize, type KeyNames, type PathSegment } from "./keys.ts";

/**
 * Edit distance between `a` and `b`: insertions, deletions, substitutions and transpositions of
 * two neighbours each count one (optimal string alignment).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { editDistance } from "./suggest.ts";
 * assert.equal(editDistance("wieght", "weight"), 1);
 * assert.equal(editDistance("chatt", "chat"), 1);
 * assert.equal(editDistance("colour", "adapter"), 6);
 * ```
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}

/**
 * The candidate closest to `word`, in kebab-case, if it is within a third of the word's length
 * (at least one edit, at most three).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closest } from "./suggest.ts";
 * assert.equal(closest("laod-balance", ["loadBalance", "adapter"]), "load-balance");
 * assert.equal(closest("colour", ["loadBalance", "adapter"]), undefined);
 * ```
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const target = foldKey(word);
  const limit = Math.min(3, Math.max(1, Math.floor(target.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(target, foldKey(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= limit ? kebabize(best) : undefined;
}

type Def = { type: string; [key: string]: unknown };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Looks through wrappers (optional, preprocess, transform) to the schema that holds keys or items. */
function unwrap(schema: unknown): unknown {
  for (let i = 0; i < 16; i++) {
    const def = defOf(schema);
    if (def.type === "optional" || def.type === "nullable" || def.type === "default") schema = def.innerType;
    else if (def.type === "pipe") {
      const inner = unwrap(def.in);
      const t = defOf(inner).type;
      schema = t === "object" || t === "array" || t === "record" ? inner : def.out;
    } else return schema;
  }
  return schema;
}

/**
 * The keys `schema` accepts in the mapping at `path` (normalised keys), or `[]` when there is no
 * fixed set there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { schemaKeysAt } from "./suggest.ts";
 * const s = z.strictObject({ list: z.array(z.strictObject({ name: z.string(), weight: z.number() })).optional() });
 * assert.deepEqual(schemaKeysAt(s, ["list", 0]), ["name", "weight"]);
 * ```
 */
export function schemaKeysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let node: unknown = unwrap(schema);
  for (const segment of path) {
    const def = defOf(node);
    if (def.type === "object" && typeof segment === "string") {
      const next = (def.shape as Record<string, unknown>)[segment];
      if (next === undefined) return [];
      node = unwrap(next);
    } else if (def.type === "array") node = unwrap(def.element);
    else return [];
  }
  const def = defOf(node);
  return def.type === "object" ? Object.keys(def.shape as Record<string, unknown>) : [];
}

/**
 * Every key `schema` accepts anywhere, plus `extra` (keys other programs define), by their folded
 * form: what `normalizeKey` (`keys.ts`) uses to read `Enabled` as `enabled`. A folded form two keys
 * share is left out (neither is guessed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { schemaKeyNames } from "./suggest.ts";
 * const s = z.strictObject({ apiKey: z.strictObject({ enabled: z.boolean() }).optional() });
 * const names = schemaKeyNames(s, ["servlet"]);
 * assert.equal(names.get("apikey"), "apiKey");
 * assert.equal(names.get("servlet"), "servlet");
 * ```
 */
export function schemaKeyNames(schema: z.ZodType, extra: Iterable<string> = []): KeyNames {
  const names = new Map<string, string>();
  const ambiguous = new Set<string>();
  const add = (key: string) => {
    const folded = foldKey(key);
    const known = names.get(folded);
    if (known !== undefined && known !== key) ambiguous.add(folded);
    else names.set(folded, key);
  };
  const seen = new Set<unknown>();
  const visit = (node: unknown) => {
    if (node === undefined || node === null || seen.has(node)) return;
    seen.add(node);
    const def = defOf(node);
    if (def.type === "object") {
      for (const [key, value] of Object.entries(def.shape as Record<string, unknown>)) {
        add(key);
        visit(value);
      }
    }
    for (const child of [def.innerType, def.in, def.out, def.element, def.valueType]) visit(child);
    for (const option of (def.options as unknown[] | undefined) ?? []) visit(option);
  };
  visit(schema);
  for (const key of extra) add(key);
  for (const folded of ambiguous) names.delete(folded);
  return names;
}
