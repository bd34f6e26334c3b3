/**
 * A string-keyed map that remembers use order, for the keyed limiter's bounded memory.
 *
 * Why not a bare `Map` with delete + set on touch: finding its least recently used entry means
 * `map.keys().next()`, and V8 walks over every deleted slot at the front of the table to get
 * there, which made a million-key flood several times slower. A doubly linked list beside the
 * `Map` ({@linkcode LinkedList}) finds the oldest entry in O(1) and never iterates the table on the hot path.
 *
 * @module
 */

import { Link, LinkedList } from "../linked_list.ts";

class Entry<V> {
  /** Its place in the use order: toward the head is less recently used. */
  readonly link: Link<Entry<V>> = new Link(this);
  constructor(readonly key: string, public value: V) {}
}

/**
 * Map with O(1) access to its least recently used entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LruMap } from "./lru_map.ts";
 * const m = new LruMap<number>();
 * m.set("a", 1);
 * m.set("b", 2);
 * m.set("a", 3); // a is now the most recently used
 * assert.equal(m.oldestKey(), "b");
 * ```
 */
export class LruMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #order = new LinkedList<Entry<V>>();

  /** Number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value of `key`, without changing the use order. */
  get(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** Sets `key` and makes it the most recently used entry. */
  set(key: string, value: V): void {
    let e = this.#entries.get(key);
    if (e === undefined) {
      e = new Entry(key, value);
      this.#entries.set(key, e);
    } else {
      e.value = value;
      this.#order.remove(e.link);
    }
    this.#order.push(e.link);
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    const e = this.#entries.get(key);
    if (e === undefined) return false;
    this.#order.remove(e.link);
    this.#entries.delete(key);
    return true;
  }

  /** The least recently used key, if any. */
  oldestKey(): string | undefined {
    return this.#order.first?.key;
  }

  /** The least recently used value, if any. */
  oldestValue(): V | undefined {
    return this.#order.first?.value;
  }

  /** Entries from the least to the most recently used. */
  *entries(): IterableIterator<[string, V]> {
    for (let l = this.#order.head; l !== undefined; l = l.next) yield [l.owner.key, l.owner.value];
  }
}
