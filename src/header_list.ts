/**
 * A small ordered list of header fields for the request path. Building a `Headers` object,
 * copying it and handing it to `fetch` (which iterates, sorts and re-validates it) cost more per
 * request than everything the gateway decides: the profile of issue 7 charged ~10 % of the CPU to
 * three `Headers` copies per attempt. A `HeaderList` is a plain array of `[name, value]` pairs with
 * lower-case names; `fetch` accepts it as is (any iterable of pairs is a `HeadersInit`).
 *
 * @module
 */

/**
 * Lower-case `[name, value]` pairs with the few `Headers` methods the gateway uses. Names passed
 * to its methods may be in any case; values are not validated here (`fetch` does that once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeaderList } from "./header_list.ts";
 * const h = new HeaderList([["content-type", "application/json"]]);
 * h.set("Authorization", "Bearer k");
 * assert(h.get("authorization") === "Bearer k" && new Headers(h).get("content-type") === "application/json");
 * ```
 */
export class HeaderList implements Iterable<[string, string]> {
  /** The fields, in order, names in lower case. */
  readonly entries: [string, string][];

  constructor(entries: [string, string][] = []) {
    this.entries = entries;
  }

  /** Copies any `HeadersInit` (names lower-cased, as `Headers` does). */
  static from(init?: HeadersInit): HeaderList {
    return new HeaderList([...new Headers(init)]);
  }

  /** The first value of `name`, or `null` (like `Headers.get`, without joining repeats). */
  get(name: string): string | null {
    const key = name.toLowerCase();
    for (const [k, v] of this.entries) if (k === key) return v;
    return null;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  /** Replaces every field named `name` with one. */
  set(name: string, value: string): void {
    const key = name.toLowerCase();
    this.#drop(key);
    this.entries.push([key, value]);
  }

  append(name: string, value: string): void {
    this.entries.push([name.toLowerCase(), value]);
  }

  delete(name: string): void {
    this.#drop(name.toLowerCase());
  }

  #drop(key: string): void {
    const e = this.entries;
    for (let i = e.length - 1; i >= 0; i--) if (e[i][0] === key) e.splice(i, 1);
  }

  /** An independent copy (the pairs are copied, so the two lists never share a field). */
  clone(): HeaderList {
    return new HeaderList(this.entries.map(([k, v]) => [k, v]));
  }

  /**
   * The cheapest form to hand to `fetch` or `Response`: a plain object when every name occurs
   * once (Deno converts a record ~20 % faster than a list of pairs), else the pairs.
   */
  toInit(): HeadersInit {
    const record: Record<string, string> = {};
    for (const [k, v] of this.entries) {
      if (Object.hasOwn(record, k)) return this.entries;
      record[k] = v;
    }
    return record;
  }

  [Symbol.iterator](): Iterator<[string, string]> {
    return this.entries[Symbol.iterator]();
  }
}
