/**
 * The loader's findings before they become a `ConfigError` or a `ConfigWarning`: a path of
 * normalised keys plus a message. The path is turned back into the spelling of the file, with its
 * line, only at the end (see `locate.ts`).
 *
 * @module
 */

import type { PathSegment } from "./keys.ts";
import type { WarningKind } from "./types.ts";

/** One finding, addressed by normalised path. */
export interface Problem {
  /** Normalised keys and indexes, e.g. `["model", "services", "chat", "instances", 1, "weight"]`. */
  readonly path: readonly PathSegment[];
  /** Follows the key path in the final message: `must be >= 0, received -1`. */
  readonly message: string;
  /** Set when the finding has a line but no path (YAML syntax errors), or a better line than the path's. */
  readonly line?: number;
  /** The path as written, when the normalised path would not find it (a key written twice). */
  readonly written?: string;
  /** The file the finding is in, when it is not the one its path leads to (or the root). */
  readonly file?: string;
}

/** A finding that becomes a warning, with what it is about. */
export interface Warning extends Problem {
  readonly kind: WarningKind;
}

/** Whether `inner` equals `outer` or lies below it. */
export function isWithin(inner: readonly PathSegment[], outer: readonly PathSegment[]): boolean {
  if (inner.length < outer.length) return false;
  return outer.every((segment, i) => inner[i] === segment);
}
