/**
 * Whether a JSON text that arrives in pieces is complete yet, read piece by piece without keeping
 * the text: the depth of objects and arrays outside strings, and the string and escape state
 * (RFC 8259: `"` opens and closes a string, `\` escapes the next character inside one). The text
 * is complete once its top-level object or array has closed.
 *
 * The Anthropic stream asks this of a tool call's arguments to know whether its block can be
 * stopped while another call is still streaming. "Not complete" is always the safe answer (the
 * other call waits), so a text that is empty, a bare scalar, or broken (a closing bracket first)
 * never counts as complete.
 *
 * @module
 */

import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from "../json_chars.ts";

/**
 * An incremental completeness check for one JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonScanner } from "./json_scanner.ts";
 * const s = new JsonScanner();
 * assert.equal(s.push('{"q":"a } \\" {'), false);
 * assert.equal(s.push('","n":[1]'), false);
 * assert.equal(s.push("}"), true);
 * assert.equal(s.complete, true);
 * ```
 */
export class JsonScanner {
  #depth = 0;
  #inString = false;
  #escaped = false;
  #complete = false;
  /** A closing bracket with nothing open: the text can never be a complete value. */
  #broken = false;

  /** True once the top-level object or array has closed. */
  get complete(): boolean {
    return this.#complete;
  }

  /** Reads the next piece; returns {@linkcode complete}. Pieces after completion are not read. */
  push(piece: string): boolean {
    if (this.#complete || this.#broken) return this.#complete;
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === BACKSLASH) this.#escaped = true;
        else if (c === QUOTE) this.#inString = false;
      } else if (c === QUOTE) {
        this.#inString = true;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        this.#depth++;
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        if (this.#depth === 0) {
          this.#broken = true;
          return false;
        }
        if (--this.#depth === 0) return this.#complete = true;
      }
    }
    return false;
  }
}
