/**
 * Option checks shared by the strategy factories. Config is validated at the boundary already;
 * these guard programmatic use and fail at construction, never on the hot path.
 *
 * @module
 */

import type { Endpoint, HashAlgorithm, Random } from "../types.ts";
import { HASH_ALGORITHMS } from "./hash.ts";

/**
 * Checks the member list and returns a private copy, so that later edits to the caller's array
 * cannot desynchronise the strategy's per-member state. (A plain copy, not frozen: element reads
 * from frozen arrays measured ~1.5× slower in the pick loops.)
 *
 * @throws {TypeError} when `members` is not an array or an id is not a string.
 * @throws {RangeError} when a weight is not a finite number >= 0 or an id repeats.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateMembers } from "./validate.ts";
 * const stats = { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 };
 * const members = [{ id: "a", weight: 1, stats }];
 * const list = validateMembers("random", members);
 * assert.ok(list !== members && list.length === 1 && list[0] === members[0]);
 * ```
 */
export function validateMembers<E extends Endpoint>(strategy: string, members: readonly E[]): readonly E[] {
  const prefix = `Cannot create ${strategy} strategy`;
  if (!Array.isArray(members)) {
    throw new TypeError(`${prefix}: "members" must be an array, received ${typeof members}`);
  }
  const seen = new Set<string>();
  for (const m of members) {
    if (typeof m?.id !== "string") {
      throw new TypeError(`${prefix}: every member needs a string "id", received ${typeof m?.id}`);
    }
    if (typeof m.weight !== "number" || !Number.isFinite(m.weight) || m.weight < 0) {
      throw new RangeError(
        `${prefix}: "weight" of member "${m.id}" must be a finite number >= 0, received ${m.weight}`,
      );
    }
    if (seen.has(m.id)) throw new RangeError(`${prefix}: member ids must be unique, "${m.id}" repeats`);
    seen.add(m.id);
  }
  return [...members];
}

/**
 * Checks that `random` is a function.
 *
 * @throws {TypeError} otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateRandom } from "./validate.ts";
 * const random = validateRandom("random", () => 0.5);
 * assert.equal(random(), 0.5);
 * ```
 */
export function validateRandom(strategy: string, random: Random): Random {
  if (typeof random !== "function") {
    throw new TypeError(
      `Cannot create ${strategy} strategy: "random" must be a function, received ${typeof random}`,
    );
  }
  return random;
}

/**
 * Checks the bounded-load factor c: finite and >= 1 (below 1 the bound can exclude everyone).
 *
 * @throws {RangeError} otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateLoadFactor } from "./validate.ts";
 * assert.equal(validateLoadFactor("consistent-hash-bounded", 1.25), 1.25);
 * ```
 */
export function validateLoadFactor(strategy: string, loadFactor: number): number {
  if (typeof loadFactor !== "number" || !Number.isFinite(loadFactor) || loadFactor < 1) {
    throw new RangeError(
      `Cannot create ${strategy} strategy: "loadFactor" must be a finite number >= 1, received ${loadFactor}`,
    );
  }
  return loadFactor;
}

/**
 * Checks that `algorithm` is one of the supported hash algorithms.
 *
 * @throws {RangeError} otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateHashAlgorithm } from "./validate.ts";
 * assert.equal(validateHashAlgorithm("ip-hash", "md5"), "md5");
 * ```
 */
export function validateHashAlgorithm(strategy: string, algorithm: HashAlgorithm): HashAlgorithm {
  if (!HASH_ALGORITHMS.includes(algorithm)) {
    throw new RangeError(
      `Cannot create ${strategy} strategy: "hashAlgorithm" must be one of ${HASH_ALGORITHMS.join(", ")}, ` +
        `received ${JSON.stringify(algorithm)}`,
    );
  }
  return algorithm;
}
