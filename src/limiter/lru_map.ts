/**
 * A string-keyed map that remembers use order, for the keyed limiter's bounded memory.
 *
 * Why not a bare `Map` with delete + set on touch: finding its least recently used entry means
 * `map.keys().next()`, and V8 walks over every deleted slot at the front of the table to get
 * there, which made a million-key flood several times slower. A doubly linked list beside the
 * `Map` finds the oldest entry in O(1) and never iterates the table on the hot path.
 *
 * @module
 */

interface Node<V> {
  readonly key: string;
  value: V;
  /** Toward the least recently used end. */
  prev: Node<V> | undefined;
  /** Toward the most recently used end. */
  next: Node<V> | undefined;
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
  #nodes = new Map<string, Node<V>>();
  #head: Node<V> | undefined;
  #tail: Node<V> | undefined;

  /** Number of entries. */
  get size(): number {
    return this.#nodes.size;
  }

  /** The value of `key`, without changing the use order. */
  get(key: string): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  /** Sets `key` and makes it the most recently used entry. */
  set(key: string, value: V): void {
    let node = this.#nodes.get(key);
    if (node === undefined) {
      node = { key, value, prev: undefined, next: undefined };
      this.#nodes.set(key, node);
    } else {
      node.value = value;
      if (node === this.#tail) return;
      this.#unlink(node);
    }
    node.prev = this.#tail;
    if (this.#tail === undefined) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#unlink(node);
    this.#nodes.delete(key);
    return true;
  }

  /** The least recently used key, if any. */
  oldestKey(): string | undefined {
    return this.#head?.key;
  }

  /** The least recently used value, if any. */
  oldestValue(): V | undefined {
    return this.#head?.value;
  }

  /** Entries from the least to the most recently used. */
  *entries(): IterableIterator<[string, V]> {
    for (let n = this.#head; n !== undefined; n = n.next) yield [n.key, n.value];
  }

  #unlink(node: Node<V>): void {
    if (node.prev === undefined) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
  }
}
