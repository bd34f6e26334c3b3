/**
 * An intrusive doubly linked list: the gateway's one list for members that join and leave all the
 * time — attempts waiting on an instance, deadlines in the sweep, listeners of the shutdown
 * signal, requests in an admission queue, keys of the limiter's LRU map.
 *
 * A member makes its {@linkcode Link} once (a field of its class) and joins and leaves lists
 * through it any number of times: joining is four assignments, leaving wherever it stands is O(1),
 * and neither allocates nor grows a hash table (a `Set` cost ~4 % of the in-process request path
 * as a deadline set; `Map` deletions made the LRU's oldest entry slow to find). An object that is
 * in several lists at once (an attempt: its instance's waiting list, the deadline sweep, the
 * shutdown fanout) has one link per list.
 *
 * Leaving is idempotent (a link knows its list), so every path that may end a membership can
 * leave without first asking whether another path did.
 *
 * @module
 */

/**
 * One member's place in a {@linkcode LinkedList}. Its fields are owned by the list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Link, LinkedList } from "./linked_list.ts";
 * class Job {
 *   readonly link: Link<Job> = new Link(this);
 *   constructor(readonly name: string) {}
 * }
 * const list = new LinkedList<Job>();
 * const a = new Job("a"), b = new Job("b");
 * list.push(a.link);
 * list.push(b.link);
 * a.link.leave();
 * assert.equal(list.first?.name, "b");
 * assert.equal(a.link.list, undefined);
 * ```
 */
export class Link<T> {
  /** The list it is in (`undefined`: none). */
  list: LinkedList<T> | undefined = undefined;
  /** Toward the list's head. */
  prev: Link<T> | undefined = undefined;
  /** Toward the list's tail. */
  next: Link<T> | undefined = undefined;

  /** @param owner The member this link places. */
  constructor(readonly owner: T) {}

  /** Leaves its list; `false` when it was in none. */
  leave(): boolean {
    return this.list !== undefined && this.list.remove(this);
  }
}

/** Links in order, head first. */
export class LinkedList<T> {
  #head: Link<T> | undefined = undefined;
  #tail: Link<T> | undefined = undefined;
  #size = 0;

  /** Members in the list. */
  get size(): number {
    return this.#size;
  }

  /** The head's link (walk on with {@linkcode Link.next}; save it before the link may leave). */
  get head(): Link<T> | undefined {
    return this.#head;
  }

  /** The head's member. */
  get first(): T | undefined {
    return this.#head?.owner;
  }

  /** Appends `link`; `false`, changing nothing, when it is in a list already. */
  push(link: Link<T>): boolean {
    if (link.list !== undefined) return false;
    link.list = this;
    link.prev = this.#tail;
    link.next = undefined;
    if (this.#tail !== undefined) this.#tail.next = link;
    else this.#head = link;
    this.#tail = link;
    this.#size++;
    return true;
  }

  /** Prepends `link`; `false`, changing nothing, when it is in a list already. */
  unshift(link: Link<T>): boolean {
    if (link.list !== undefined) return false;
    link.list = this;
    link.prev = undefined;
    link.next = this.#head;
    if (this.#head !== undefined) this.#head.prev = link;
    else this.#tail = link;
    this.#head = link;
    this.#size++;
    return true;
  }

  /** Unlinks `link`; `false`, changing nothing, when it is not in this list. */
  remove(link: Link<T>): boolean {
    if (link.list !== this) return false;
    const { prev, next } = link;
    if (prev !== undefined) prev.next = next;
    else this.#head = next;
    if (next !== undefined) next.prev = prev;
    else this.#tail = prev;
    link.list = link.prev = link.next = undefined;
    this.#size--;
    return true;
  }

  /** Unlinks the head and returns its member (`undefined`: the list is empty). */
  shift(): T | undefined {
    const head = this.#head;
    if (head === undefined) return undefined;
    this.remove(head);
    return head.owner;
  }
}
