/**
 * The one digest credentials are kept as: SHA-256, lower-case hex.
 *
 * @module
 */

import { createHash } from "node:crypto";

/**
 * Lower-case hex SHA-256 of a credential's UTF-8 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Hex } from "./digest.ts";
 * assert(sha256Hex("abc") === "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * ```
 */
export function sha256Hex(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}
