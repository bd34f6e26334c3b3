/**
 * 32-bit hashes for the hashing strategies (`load-balance.hash-algorithm`): FNV-1a (the fast
 * default) computed in place, and md5 / sha1 / sha256 through `node:crypto`, all synchronous.
 *
 * Every function hashes the UTF-8 bytes of its input, so a key hashes the same whatever the
 * runtime's string representation.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { HashAlgorithm } from "../types.ts";
import { HASH_ALGORITHMS as ALL_HASHES } from "../types.ts";

/** Every accepted `hash-algorithm`, default first. */
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ALL_HASHES;

/** A function from a string to an unsigned 32-bit integer. */
export type Hasher = (input: string) => number;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a, 32 bits, over the UTF-8 encoding of `input` (lone surrogates count as U+FFFD, as
 * `TextEncoder` encodes them). Encodes on the fly so that hashing allocates nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fnv1a32 } from "./hash.ts";
 * assert.equal(fnv1a32("foobar"), 0xbf9cf968);
 * ```
 */
export function fnv1a32(input: string): number {
  let h = FNV_OFFSET;
  const n = input.length;
  for (let i = 0; i < n; i++) {
    let c = input.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? input.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
        continue;
      }
      c = 0xfffd;
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * The murmur3 32-bit finalizer: a bijection on uint32 with full avalanche. FNV-1a alone lets
 * similar inputs (`10.0.0.1`, `10.0.0.2`) land on related values; mixing before comparing
 * scores makes them behave as independent draws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mix32 } from "./hash.ts";
 * assert.ok(mix32(0) === 0 && mix32(1) !== 1);
 * ```
 */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function digestHasher(algorithm: "md5" | "sha1" | "sha256"): Hasher {
  // The first four bytes of a cryptographic digest are already uniformly distributed. Going
  // through hex is 2.5× faster under Deno's node:crypto than reading a Buffer (1.3 µs vs 3.2 µs).
  return (input) =>
    Number.parseInt(createHash(algorithm).update(input, "utf8").digest("hex").slice(0, 8), 16);
}

/**
 * Returns the hash function for `algorithm`: FNV-1a as is, or the first 32 bits (big-endian)
 * of the md5 / sha1 / sha256 digest.
 *
 * @throws {RangeError} when `algorithm` is not one of {@linkcode HASH_ALGORITHMS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHasher } from "./hash.ts";
 * const md5 = createHasher("md5");
 * // md5("") = d41d8cd98f00b204e9800998ecf8427e
 * assert.equal(md5(""), 0xd41d8cd9);
 * ```
 */
export function createHasher(algorithm: HashAlgorithm): Hasher {
  switch (algorithm) {
    case "fnv1a":
      return fnv1a32;
    case "md5":
    case "sha1":
    case "sha256":
      return digestHasher(algorithm);
    default:
      throw new RangeError(
        `Cannot create hasher: "hashAlgorithm" must be one of ${HASH_ALGORITHMS.join(", ")}, received ${
          JSON.stringify(algorithm)
        }`,
      );
  }
}

/**
 * Hashes `input` to an unsigned 32-bit integer with `algorithm`. Convenience for one-off use;
 * hot paths keep the function from {@linkcode createHasher}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hash32 } from "./hash.ts";
 * const h = hash32("sha256", "10.0.0.1");
 * assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
 * ```
 */
export function hash32(algorithm: HashAlgorithm, input: string): number {
  return createHasher(algorithm)(input);
}
