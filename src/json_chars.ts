/**
 * The JSON punctuation the gateway's hand-written scanners look for (RFC 8259 §2), as UTF-16 code
 * units — the same values as the UTF-8 bytes, all being ASCII. The scanners (`json_scanner.ts`,
 * `duplicate_key.ts`, `model_rename.ts`) read text `charCodeAt` by `charCodeAt` or bytes one by one
 * where a parse would build what they do not need.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLOSE_OBJECT, OPEN_OBJECT, QUOTE } from "./json_chars.ts";
 * const text = '{"a":1}';
 * assert.deepEqual([text.charCodeAt(0), text.charCodeAt(1), text.charCodeAt(6)], [OPEN_OBJECT, QUOTE, CLOSE_OBJECT]);
 * ```
 *
 * @module
 */

/** `"`: opens and closes a string. */
export const QUOTE = 0x22;
/** `\`: escapes the next character inside a string. */
export const BACKSLASH = 0x5c;
/** `{` */
export const OPEN_OBJECT = 0x7b;
/** `}` */
export const CLOSE_OBJECT = 0x7d;
/** `[` */
export const OPEN_ARRAY = 0x5b;
/** `]` */
export const CLOSE_ARRAY = 0x5d;
/** `,`: between members and elements. */
export const COMMA = 0x2c;
