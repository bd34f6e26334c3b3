/**
 * Where each key of the configuration was written: for every normalised path (`model.services
 * .embedding[0].baseUrl`), the spelling the file used (`model.services.embeddings[0].base-url`), its
 * line, and — when the configuration is spread over several files by `spring.config.import` — the
 * file. Kept as a tree parallel to the values, so that merging files grafts whole branches instead
 * of copying entries one by one.
 *
 * @module
 */

import { kebabize, type PathSegment } from "./keys.ts";

/** Where a normalised path came from. */
export interface Origin {
  /** The path as written in the file, e.g. `model.services.chat.instances[1].base-url`. */
  readonly written: string;
  /** 1-based line of the key (mappings) or item (sequences). */
  readonly line?: number;
  /** The file, as named in messages; absent for the file that was loaded (the root). */
  readonly file?: string;
}

/** Appends one segment to a written path: `a.b`, `a[1]`. */
export function appendPath(written: string, segment: PathSegment): string {
  if (typeof segment === "number") return `${written}[${segment}]`;
  return written === "" ? segment : `${written}.${segment}`;
}

/** One node of the origin tree. */
export interface OriginNode {
  origin?: Origin;
  children?: Map<string, OriginNode>;
}

/** Normalised path → origin, with a fallback to the nearest ancestor the file does contain. */
export class Origins {
  /** The root of the tree (the whole document). */
  readonly root: OriginNode;

  /** An empty tree, or one around an existing root. */
  constructor(root: OriginNode = {}) {
    this.root = root;
  }

  /** The node at `path`, created on the way when `create` is set. */
  node(path: readonly PathSegment[], create: true): OriginNode;
  node(path: readonly PathSegment[], create?: false): OriginNode | undefined;
  node(path: readonly PathSegment[], create = false): OriginNode | undefined {
    let node = this.root;
    for (const segment of path) {
      const key = String(segment);
      let next = node.children?.get(key);
      if (!next) {
        if (!create) return undefined;
        next = {};
        (node.children ??= new Map()).set(key, next);
      }
      node = next;
    }
    return node;
  }

  /** Records where `path` is written. */
  set(path: readonly PathSegment[], origin: Origin): void {
    this.node(path, true).origin = origin;
  }

  /** The origin recorded for exactly `path`. */
  get(path: readonly PathSegment[]): Origin | undefined {
    return this.node(path)?.origin;
  }

  /**
   * The origin of `path`. Keys missing from the file (a required key left out) are spelled in
   * kebab-case after the written path of their nearest present ancestor, whose line is used.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Origins } from "./origins.ts";
   * const o = new Origins();
   * o.set(["model", "services", "chat"], { written: "model.services.chat", line: 3 });
   * assert.deepEqual(o.locate(["model", "services", "chat", "loadBalance"]), {
   *   written: "model.services.chat.load-balance",
   *   line: 3,
   * });
   * ```
   */
  locate(path: readonly PathSegment[]): Origin {
    let found: Origin | undefined;
    let depth = 0;
    let node: OriginNode | undefined = this.root;
    for (let i = 0; i < path.length && node; i++) {
      node = node.children?.get(String(path[i]));
      if (node?.origin) {
        found = node.origin;
        depth = i + 1;
      }
    }
    if (!found) {
      return { written: path.map((s) => (typeof s === "string" ? kebabize(s) : `[${s}]`)).join(".") };
    }
    let written = found.written;
    for (const segment of path.slice(depth)) {
      written = appendPath(written, typeof segment === "string" ? kebabize(segment) : segment);
    }
    return {
      written,
      ...(found.line !== undefined ? { line: found.line } : {}),
      ...(found.file !== undefined ? { file: found.file } : {}),
    };
  }
}
