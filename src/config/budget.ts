/**
 * Limits on what a configuration may cost to read, so that no file — written by mistake or by an
 * attacker — can stall the gateway or grow its memory without bound:
 *
 * - **bytes**: all the files of one configuration (the root and what `spring.config.import` pulls
 *   in) together may hold at most `maxBytes` ({@linkcode DEFAULT_MAX_CONFIG_BYTES}, 1 MiB);
 * - **alias expansion**: YAML aliases (`*name`) share one node in the document but become copies
 *   for whoever reads the values, so nine aliases to nine aliases to nine … make a 700-byte file
 *   describe millions of nodes ("billion laughs"). Each alias is charged the expanded size of its
 *   target, computed once per node on the syntax tree, and the whole configuration may expand
 *   aliases into at most {@linkcode MAX_ALIAS_NODES} nodes;
 * - **depth**: mappings and sequences nest at most {@linkcode MAX_DEPTH} levels.
 *
 * @module
 */

import { type Alias, type Document, isAlias, isMap, isPair, isSeq, visit } from "yaml";

/** Default cap on the bytes of all the files of one configuration: 1 MiB. */
export const DEFAULT_MAX_CONFIG_BYTES = 1024 * 1024;

/** Nodes that aliases may add to a configuration, all files together. */
export const MAX_ALIAS_NODES = 100_000;

/** Deepest nesting of mappings and sequences accepted (real configurations use about ten). */
export const MAX_DEPTH = 64;

/** What is left to spend while one configuration is read. Shared by all its files. */
export interface ReadBudget {
  /** The cap on the bytes of all files, for messages. */
  readonly limit: number;
  /** Bytes that the files still to be read may hold. */
  bytes: number;
  /** Nodes that aliases may still add. */
  aliasNodes: number;
}

/**
 * A fresh budget for one configuration.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBudget } from "./budget.ts";
 * assert.deepEqual(createBudget(1000), { limit: 1000, bytes: 1000, aliasNodes: 100_000 });
 * ```
 */
export function createBudget(maxBytes: number = DEFAULT_MAX_CONFIG_BYTES): ReadBudget {
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new RangeError(
      `Cannot create read budget: "maxBytes" must be a positive integer, received ${maxBytes}`,
    );
  }
  return { limit: maxBytes, bytes: maxBytes, aliasNodes: MAX_ALIAS_NODES };
}

/**
 * Aliases resolved and expanded sizes counted in time proportional to the document. The yaml
 * library's own `Alias.resolve` scans the document (or its list of anchors) once per alias, which
 * is quadratic in the number of aliases; this index visits the document once, in order, so each
 * alias gets the last anchor of its name defined before it, as YAML 1.2 §3.2.2.2 says.
 */
export class AliasIndex {
  readonly #targets = new Map<unknown, unknown>();
  readonly #sizes = new Map<unknown, number>();
  readonly #open = new Set<unknown>();

  /** Indexes the aliases of `doc`. */
  constructor(doc: Document) {
    const anchors = new Map<string, unknown>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) this.#targets.set(node, anchors.get(node.source));
        else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  /** The node `alias` refers to, or `undefined` when no anchor of its name comes before it. */
  resolve(alias: Alias): unknown {
    return this.#targets.get(alias);
  }

  /**
   * Charges what an alias to `target` (named `name`) adds to `budget`; returns the refusal when it
   * would exceed what is left.
   */
  charge(target: unknown, name: string, budget: ReadBudget): string | undefined {
    const size = this.size(target);
    if (size > budget.aliasNodes) {
      const what = Number.isFinite(size) ? `${size} nodes` : "an unbounded number of nodes";
      return `uses the alias *${name}, which expands to ${what}; aliases may add at most ${MAX_ALIAS_NODES} ` +
        "nodes to a configuration (a YAML alias bomb?)";
    }
    budget.aliasNodes -= size;
    return undefined;
  }

  /**
   * The number of nodes `node` expands to (scalars, mappings, pairs, sequences), following
   * aliases. Each node of the syntax tree is counted once and remembered; a cycle is infinite.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { parseDocument } from "yaml";
   * import { AliasIndex } from "./budget.ts";
   * const doc = parseDocument("a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n");
   * const c = doc.getIn(["c"], true);
   * assert.equal(new AliasIndex(doc).size(c), 1 + 3 * (1 + 3 * 4));
   * ```
   */
  size(node: unknown): number {
    if (isAlias(node)) {
      const target = this.resolve(node);
      return target === undefined ? 1 : this.size(target);
    }
    if (!isMap(node) && !isSeq(node)) return 1;
    const known = this.#sizes.get(node);
    if (known !== undefined) return known;
    if (this.#open.has(node)) return Infinity;
    this.#open.add(node);
    let total = 1;
    for (const item of node.items) {
      total += isPair(item) ? 1 + this.size(item.key) + this.size(item.value) : this.size(item);
    }
    this.#open.delete(node);
    this.#sizes.set(node, total);
    return total;
  }
}

/**
 * The refusal of a file that does not fit in what is left of the size limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeRefusal } from "./budget.ts";
 * assert.equal(
 *   sizeRefusal(undefined, { limit: 1024, bytes: 1024, aliasNodes: 0 }),
 *   "is larger than the configuration size limit of 1024 bytes",
 * );
 * ```
 */
export function sizeRefusal(file: string | undefined, budget: ReadBudget, hint = ""): string {
  const what = file === undefined ? "is larger than" : `names ${file}, which does not fit in`;
  const left = budget.bytes < budget.limit ? ` (${budget.bytes} bytes left after the other files)` : "";
  return `${what} the configuration size limit of ${budget.limit} bytes${left}${hint}`;
}
