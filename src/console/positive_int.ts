/**
 * The option check the console's factories share: a whole number >= 1, with std-style messages.
 *
 * @module
 */

/**
 * Returns `value` when it is an integer >= 1, else throws naming the factory and the option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveInt } from "./positive_int.ts";
 * assert.equal(positiveInt("stats ring", "seconds", 900), 900);
 * assert.throws(() => positiveInt("stats ring", "seconds", 0), RangeError);
 * ```
 */
export function positiveInt(what: string, name: string, value: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot create ${what}: "${name}" must be a number, received ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Cannot create ${what}: "${name}" must be an integer >= 1, received ${value}`);
  }
  return value;
}
