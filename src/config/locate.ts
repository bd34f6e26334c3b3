/**
 * Reads a YAML document into plain values with normalised keys, and remembers for every
 * normalised path how the file wrote it and on which line, so that messages can say
 * `model.services.embeddings[0].base-url … (line 12)` although validation saw
 * `model.services.embedding[0].baseUrl`. `${ENV}` placeholders are filled in on the way.
 *
 * @module
 */

import { type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { interpolate } from "./interpolate.ts";
import { isForeign, kebabize, normalizeKey, type PathSegment } from "./keys.ts";
import type { Problem } from "./problem.ts";

/** Where a normalised path came from. */
export interface Origin {
  /** The path as written in the file, e.g. `model.services.chat.instances[1].base-url`. */
  readonly written: string;
  /** 1-based line of the key (mappings) or item (sequences). */
  readonly line?: number;
}

/** Appends one segment to a written path: `a.b`, `a[1]`. */
export function appendPath(written: string, segment: PathSegment): string {
  if (typeof segment === "number") return `${written}[${segment}]`;
  return written === "" ? segment : `${written}.${segment}`;
}

const SEP = "\u001f";

/** Normalised path → origin, with a fallback to the nearest ancestor the file does contain. */
export class Origins {
  readonly #map = new Map<string, Origin>();

  /** Records where `path` is written. */
  set(path: readonly PathSegment[], origin: Origin): void {
    this.#map.set(path.join(SEP), origin);
  }

  /**
   * The origin of `path`. Keys missing from the file (a required key left out) are spelled in
   * kebab-case after the written path of their nearest present ancestor, whose line is used.
   */
  locate(path: readonly PathSegment[]): Origin {
    for (let n = path.length; n > 0; n--) {
      const found = this.#map.get(path.slice(0, n).join(SEP));
      if (!found) continue;
      let written = found.written;
      for (const segment of path.slice(n)) {
        written = appendPath(written, typeof segment === "string" ? kebabize(segment) : segment);
      }
      return { written, line: found.line };
    }
    return { written: path.map((s) => (typeof s === "string" ? kebabize(s) : `[${s}]`)).join(".") };
  }
}

/** The outcome of reading a YAML text. */
export interface ReadResult {
  /** The document as plain values (normalised keys, placeholders filled); `undefined` when empty. */
  readonly value: unknown;
  /** Where each normalised path was written. */
  readonly origins: Origins;
  /** YAML syntax errors (line only) and key/placeholder problems (with path). */
  readonly problems: readonly Problem[];
  /** Paths whose placeholder could not be filled: validation findings there are noise. */
  readonly unresolved: readonly (readonly PathSegment[])[];
  /** Non-fatal YAML findings. */
  readonly yamlWarnings: readonly Problem[];
}

interface Ctx {
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly env: Readonly<Record<string, string>>;
  readonly origins: Origins;
  readonly problems: Problem[];
  readonly unresolved: PathSegment[][];
  /** Nodes being walked, to stop alias cycles. */
  readonly stack: Set<unknown>;
}

/**
 * Parses `text` and walks it into plain values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readYaml } from "./locate.ts";
 * const r = readYaml("model:\n  services:\n    embeddings:\n      instances: []\n", {});
 * assert(r.origins.locate(["model", "services", "embedding"]).written === "model.services.embeddings");
 * assert(r.origins.locate(["model", "services", "embedding"]).line === 3);
 * ```
 */
export function readYaml(text: string, env: Readonly<Record<string, string>>): ReadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, keepSourceTokens: false });
  const lineOf = (offset: number) => lines.linePos(offset).line;
  const yamlWarnings = doc.warnings.map((w) => ({ path: [], message: w.message, line: lineOf(w.pos[0]) }));
  const origins = new Origins();
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      path: [],
      message: `YAML syntax error: ${e.message}`,
      line: lineOf(e.pos[0]),
    }));
    return { value: undefined, origins, problems, unresolved: [], yamlWarnings };
  }
  const ctx: Ctx = { doc, lines, env, origins, problems: [], unresolved: [], stack: new Set() };
  const value = walk(doc.contents, [], "", ctx);
  return { value, origins, problems: ctx.problems, unresolved: ctx.unresolved, yamlWarnings };
}

function lineOfNode(node: unknown, ctx: Ctx): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? ctx.lines.linePos(range[0]).line : undefined;
}

function walk(node: unknown, path: PathSegment[], written: string, ctx: Ctx): unknown {
  if (isAlias(node)) {
    const target = node.resolve(ctx.doc);
    if (target === undefined || ctx.stack.has(target)) {
      ctx.problems.push({ path, message: `uses the alias *${node.source}, which is undefined or circular` });
      return undefined;
    }
    return walk(target, path, written, ctx);
  }
  if (isScalar(node)) return scalar(node.value, path, ctx);
  if (!isMap(node) && !isSeq(node)) return node === null || node === undefined ? undefined : node;
  ctx.stack.add(node);
  try {
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const itemWritten = appendPath(written, i);
        ctx.origins.set([...path, i], { written: itemWritten, line: lineOfNode(item, ctx) });
        const value = walk(item, [...path, i], itemWritten, ctx);
        return value === undefined ? null : value;
      });
    }
    return mapping(node.items, path, written, ctx);
  } finally {
    ctx.stack.delete(node);
  }
}

function scalar(value: unknown, path: PathSegment[], ctx: Ctx): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "string") return value;
  const result = interpolate(value, ctx.env);
  if (result.ok) return result.value;
  ctx.problems.push({ path, message: result.error });
  ctx.unresolved.push(path);
  return value;
}

function mapping(pairs: readonly unknown[], path: PathSegment[], written: string, ctx: Ctx): unknown {
  const out: Record<string, unknown> = {};
  const merges: unknown[] = [];
  const seen = new Map<string, string>();
  for (const pair of pairs) {
    if (!isPair(pair)) continue;
    const keyNode = pair.key;
    const line = lineOfNode(keyNode, ctx) ?? lineOfNode(pair.value, ctx);
    if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === "object") {
      ctx.problems.push({ path, message: "has a key that is not a plain scalar", line });
      continue;
    }
    const rawKey = String(keyNode.value);
    if (rawKey === "<<") {
      merges.push(pair.value);
      continue;
    }
    const key = normalizeKey(path, rawKey);
    const childWritten = appendPath(written, rawKey);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      ctx.problems.push({
        path: [...path, key],
        written: childWritten,
        message: `is set twice (also as ${earlier})`,
        line,
      });
      continue;
    }
    seen.set(key, childWritten);
    ctx.origins.set([...path, key], { written: childWritten, line });
    // Foreign root sections are recorded (so they can be reported) but never read.
    const value = isForeign([...path, key]) ? undefined : walk(pair.value, [...path, key], childWritten, ctx);
    define(out, key, value);
  }
  for (const source of merges) mergeInto(out, source, path, written, ctx);
  return out;
}

/** YAML merge keys (`<<: *defaults`): keys written explicitly win over merged ones. */
function mergeInto(
  out: Record<string, unknown>,
  source: unknown,
  path: PathSegment[],
  written: string,
  ctx: Ctx,
) {
  const resolved = isAlias(source) ? source.resolve(ctx.doc) : source;
  if (isSeq(resolved)) {
    for (const item of resolved.items) mergeInto(out, item, path, written, ctx);
    return;
  }
  if (!isMap(resolved) || ctx.stack.has(resolved)) {
    ctx.problems.push({ path, message: "has a merge key (<<) whose value is not a mapping" });
    return;
  }
  // Only the pairs not already set are walked, so explicit keys keep their own origins.
  const fresh = resolved.items.filter((pair) =>
    !(isPair(pair) && isScalar(pair.key) && Object.hasOwn(out, normalizeKey(path, String(pair.key.value))))
  );
  ctx.stack.add(resolved);
  try {
    const merged = mapping(fresh, path, written, ctx) as Record<string, unknown>;
    for (const [key, value] of Object.entries(merged)) define(out, key, value);
  } finally {
    ctx.stack.delete(resolved);
  }
}

/** Defines an own property even for keys such as `__proto__`, which plain assignment would not. */
function define(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}
