/**
 * Reads a YAML document into plain values with normalised keys, and remembers for every
 * normalised path how the file wrote it and on which line, so that messages can say
 * `model.services.embeddings[0].base-url … (line 12)` although validation saw
 * `model.services.embedding[0].baseUrl`. `${ENV}` placeholders are filled in on the way.
 *
 * Aliases are never walked twice: the value built for an anchored node is reused for every alias
 * to it (in the same key context), and what aliases add is charged to the read budget
 * (`budget.ts`) before anything is built, so an alias bomb is refused at the line of the alias that
 * would exceed it, in time proportional to the file.
 *
 * @module
 */

import { type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { AliasIndex, MAX_ALIAS_NODES, MAX_DEPTH, type ReadBudget } from "./budget.ts";
import { interpolate } from "./interpolate.ts";
import { keyContextOf, type KeyNames, normalizeKey, type PathSegment } from "./keys.ts";
import { appendPath, Origins } from "./origins.ts";
import { define } from "./merge.ts";
import { keysOf, place } from "./relaxed.ts";
import type { Problem } from "./problem.ts";

export { appendPath, type Origin, Origins } from "./origins.ts";

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
  /** The parsed document (for `spring.config.*`, which is read from the syntax tree). */
  readonly doc: Document;
  /** Turns an offset in the text into a 1-based line. */
  readonly lineOf: (offset: number) => number;
}

/** Options of `readYaml`. */
export interface ReadOptions {
  /** The file's name in messages; absent for the root file. */
  readonly file?: string;
  /** What the configuration may still cost; shared by all its files. Default: a fresh one. */
  readonly budget?: ReadBudget;
  /** Keys recognised whatever their case (`normalizeKey`); absent, only their spelling is normalised. */
  readonly keyNames?: KeyNames;
}

interface Ctx {
  readonly aliases: AliasIndex;
  readonly lines: LineCounter;
  readonly env: Readonly<Record<string, string>>;
  readonly origins: Origins;
  readonly problems: Problem[];
  readonly unresolved: PathSegment[][];
  readonly file?: string;
  readonly budget: ReadBudget;
  /** Nodes being walked, to stop alias cycles. */
  readonly stack: Set<unknown>;
  /** Values already built for anchored nodes, by key context. */
  readonly built: Map<unknown, Map<string, unknown>>;
  readonly keyNames?: KeyNames;
}

/** Thrown inside the walk when a limit is hit; becomes one problem. */
class Refusal extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
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
export function readYaml(
  text: string,
  env: Readonly<Record<string, string>>,
  options: ReadOptions = {},
): ReadResult {
  const lines = new LineCounter();
  // uniqueKeys: false — the library's check compares each key with every earlier one (20,000 keys
  // in one mapping: 4 s); the walk below finds keys written twice with a map, after normalisation.
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    keepSourceTokens: false,
    uniqueKeys: false,
  });
  const lineOf = (offset: number) => lines.linePos(offset).line;
  const file = options.file;
  const at = file === undefined ? {} : { file };
  const yamlWarnings = doc.warnings.map((w) => ({
    path: [],
    message: w.message,
    line: lineOf(w.pos[0]),
    ...at,
  }));
  const origins = new Origins();
  const base = { origins, yamlWarnings, doc, lineOf, unresolved: [] };
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      path: [],
      message: yamlError(e.message),
      line: lineOf(e.pos[0]),
      ...at,
    }));
    return { ...base, value: undefined, problems };
  }
  const ctx: Ctx = {
    aliases: new AliasIndex(doc),
    lines,
    env,
    origins,
    problems: [],
    unresolved: [],
    ...at,
    budget: options.budget ?? { limit: Infinity, bytes: Infinity, aliasNodes: MAX_ALIAS_NODES },
    stack: new Set(),
    built: new Map(),
    ...(options.keyNames ? { keyNames: options.keyNames } : {}),
  };
  try {
    const value = walk(doc.contents, [], "", ctx);
    return { ...base, value, problems: ctx.problems, unresolved: ctx.unresolved };
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return { ...base, value: undefined, problems: [error.problem] };
  }
}

/** The YAML library's error, said for this program where the library's words would mislead. */
function yamlError(message: string): string {
  if (/maximum call stack/i.test(message)) {
    return `YAML nests deeper than can be read (DAiRouter reads at most ${MAX_DEPTH} levels)`;
  }
  if (message.includes("parseAllDocuments")) {
    return "YAML file holds several documents (---): DAiRouter reads one document per file; " +
      "put profile-specific settings in application-<profile>.yml";
  }
  return `YAML syntax error: ${message}`;
}

function lineOfNode(node: unknown, ctx: Ctx): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? ctx.lines.linePos(range[0]).line : undefined;
}

function refuse(node: unknown, path: PathSegment[], message: string, ctx: Ctx): never {
  const line = lineOfNode(node, ctx);
  throw new Refusal({
    path,
    message,
    ...(line !== undefined ? { line } : {}),
    ...(ctx.file !== undefined ? { file: ctx.file } : {}),
  });
}

/** Charges the alias's expanded size to the budget, or refuses at the alias's line. */
function chargeAlias(alias: unknown, target: unknown, path: PathSegment[], name: string, ctx: Ctx) {
  const refusal = ctx.aliases.charge(target, name, ctx.budget);
  if (refusal !== undefined) refuse(alias, path, refusal, ctx);
}

function walk(node: unknown, path: PathSegment[], written: string, ctx: Ctx): unknown {
  if (isAlias(node)) {
    const target = ctx.aliases.resolve(node);
    if (target === undefined || ctx.stack.has(target)) {
      report(ctx, { path, message: `uses the alias *${node.source}, which is undefined or circular` });
      return undefined;
    }
    chargeAlias(node, target, path, node.source, ctx);
    const context = keyContextOf(path);
    const reused = ctx.built.get(target)?.get(context);
    if (reused !== undefined) return reused;
    return walk(target, path, written, ctx);
  }
  if (isScalar(node)) return remember(node, path, scalar(node.value, path, ctx), ctx);
  if (!isMap(node) && !isSeq(node)) return node === null || node === undefined ? undefined : node;
  if (ctx.stack.size >= MAX_DEPTH) refuse(node, path, `nests deeper than ${MAX_DEPTH} levels`, ctx);
  ctx.stack.add(node);
  try {
    if (isSeq(node)) {
      const items = node.items.map((item, i) => {
        const itemWritten = appendPath(written, i);
        ctx.origins.set([...path, i], origin(itemWritten, lineOfNode(item, ctx), ctx));
        const value = walk(item, [...path, i], itemWritten, ctx);
        return value === undefined ? null : value;
      });
      return remember(node, path, items, ctx);
    }
    return remember(node, path, mapping(node.items, path, written, ctx), ctx);
  } finally {
    ctx.stack.delete(node);
  }
}

/** Keeps the value built for an anchored node, for the aliases that refer to it. */
function remember(node: { anchor?: string }, path: PathSegment[], value: unknown, ctx: Ctx): unknown {
  if (node.anchor !== undefined && value !== undefined) {
    let byContext = ctx.built.get(node);
    if (!byContext) ctx.built.set(node, byContext = new Map());
    byContext.set(keyContextOf(path), value);
  }
  return value;
}

/** Records a problem of this file. */
function report(ctx: Ctx, problem: Problem): void {
  ctx.problems.push(ctx.file === undefined ? problem : { ...problem, file: ctx.file });
}

function origin(written: string, line: number | undefined, ctx: Ctx) {
  return {
    written,
    ...(line !== undefined ? { line } : {}),
    ...(ctx.file !== undefined ? { file: ctx.file } : {}),
  };
}

function scalar(value: unknown, path: PathSegment[], ctx: Ctx): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "string") return value;
  const result = interpolate(value, ctx.env);
  if (result.ok) return result.value;
  report(ctx, { path, message: result.error });
  ctx.unresolved.push(path);
  return value;
}

function mapping(pairs: readonly unknown[], path: PathSegment[], written: string, ctx: Ctx): unknown {
  const out: Record<string, unknown> = {};
  const merges: unknown[] = [];
  const seen = new Map<string, { written: string; line?: number }>();
  for (const pair of pairs) {
    if (!isPair(pair)) continue;
    const keyNode = pair.key;
    const line = lineOfNode(keyNode, ctx) ?? lineOfNode(pair.value, ctx);
    if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === "object") {
      report(ctx, { path, message: "has a key that is not a plain scalar", line });
      continue;
    }
    const rawKey = String(keyNode.value);
    if (rawKey === "<<") {
      merges.push(pair.value);
      continue;
    }
    const { keys, policy } = keysOf(path, rawKey, typeof keyNode.value === "string", ctx.keyNames);
    if (policy === "skip") continue;
    const childPath = [...path, ...keys];
    const childWritten = appendPath(written, rawKey);
    const id = keys.join(".");
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      // Several keys into one ignored section (`spring.a: …`, `spring.b: …`, `spring:`): reported once.
      if (policy === "record" && earlier.written !== childWritten) continue;
      const where = earlier.line === undefined ? "" : ` on line ${earlier.line}`;
      const first = earlier.written === childWritten ? `first${where}` : `also as ${earlier.written}${where}`;
      report(ctx, { path: childPath, written: childWritten, message: `is set twice (${first})`, line });
      continue;
    }
    seen.set(id, { written: childWritten, ...(line !== undefined ? { line } : {}) });
    for (let i = 1; i < keys.length; i++) {
      const prefix = [...path, ...keys.slice(0, i)];
      if (ctx.origins.get(prefix) === undefined) ctx.origins.set(prefix, origin(childWritten, line, ctx));
    }
    ctx.origins.set(childPath, origin(childWritten, line, ctx));
    // Foreign sections are recorded (so they can be reported) but never read.
    const value = policy === "record" ? undefined : walk(pair.value, childPath, childWritten, ctx);
    if (!place(out, keys, value)) {
      report(ctx, {
        path: childPath,
        written: childWritten,
        message: "is set twice (also nested, in this mapping)",
        line,
      });
    }
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
  let resolved = source;
  if (isAlias(source)) {
    resolved = ctx.aliases.resolve(source);
    if (resolved !== undefined && !ctx.stack.has(resolved)) {
      chargeAlias(source, resolved, path, source.source, ctx);
    }
  }
  if (isSeq(resolved)) {
    for (const item of resolved.items) mergeInto(out, item, path, written, ctx);
    return;
  }
  if (!isMap(resolved) || ctx.stack.has(resolved)) {
    report(ctx, { path, message: "has a merge key (<<) whose value is not a mapping" });
    return;
  }
  // Only the pairs not already set are walked, so explicit keys keep their own origins.
  const fresh = resolved.items.filter((pair) =>
    !(isPair(pair) && isScalar(pair.key) &&
      Object.hasOwn(out, normalizeKey(path, String(pair.key.value), ctx.keyNames)))
  );
  ctx.stack.add(resolved);
  try {
    const merged = mapping(fresh, path, written, ctx) as Record<string, unknown>;
    for (const [key, value] of Object.entries(merged)) define(out, key, value);
  } finally {
    ctx.stack.delete(resolved);
  }
}
