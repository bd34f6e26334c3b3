/**
 * One `abort` listener on a long-lived signal (the gateway's shutdown), fanned out to the objects
 * that must hear it, kept in an intrusive linked list (the members carry their links).
 *
 * Every attempt and every queued request used to add and remove its own listener on the shutdown
 * signal. Besides the `EventTarget` bookkeeping, each listener record tied the request's whole
 * object graph to a gateway-lifetime object: with it the graphs survived the young-generation GC
 * and were promoted (issue 12's trace: ~2.9 MB promoted per scavenge at 64 connections, 1.9 MB
 * without it). Joining this {@linkcode LinkedList} is four assignments on objects as young as the
 * member.
 *
 * The members hear the signal's `abort` event once, like `{ once: true }` listeners: the list is
 * emptied before they are told, and a member that leaves while being told is no trouble.
 *
 * @module
 */

import { type Link, LinkedList } from "../linked_list.ts";

/** A member of an {@linkcode AbortFanout}: an event listener object with its link. */
export interface AbortMember extends EventListenerObject {
  /** Its place in a fanout (`abortLink.leave()` stops listening, wherever it listens). */
  readonly abortLink: Link<AbortMember>;
}

const FANOUTS = new WeakMap<AbortSignal, AbortFanout>();

/**
 * The members listening to one signal through its single listener.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AbortFanout, type AbortMember } from "./abort_fanout.ts";
 * import { Link } from "../linked_list.ts";
 * const heard: string[] = [];
 * class Member implements AbortMember {
 *   readonly abortLink: Link<AbortMember> = new Link(this);
 *   handleEvent(e: Event) {
 *     heard.push(e.type);
 *   }
 * }
 * const ctrl = new AbortController();
 * const member = new Member();
 * AbortFanout.of(ctrl.signal).add(member);
 * ctrl.abort();
 * assert.deepEqual(heard, ["abort"]);
 * assert.equal(member.abortLink.list, undefined);
 * ```
 */
export class AbortFanout implements EventListenerObject {
  readonly #members = new LinkedList<AbortMember>();

  private constructor() {}

  /** The fanout of `signal` (made, with its one listener, on first use). */
  static of(signal: AbortSignal): AbortFanout {
    let f = FANOUTS.get(signal);
    if (f === undefined) {
      f = new AbortFanout();
      FANOUTS.set(signal, f);
      signal.addEventListener("abort", f, { once: true });
    }
    return f;
  }

  /** Members listening. */
  get size(): number {
    return this.#members.size;
  }

  /** `m` starts listening (a no-op when it already listens here or elsewhere). */
  add(m: AbortMember): void {
    this.#members.push(m.abortLink);
  }

  /** `m` stops listening (a no-op when it is not in this fanout). */
  delete(m: AbortMember): void {
    this.#members.remove(m.abortLink);
  }

  /** The signal aborted: every member is taken out, then told, in the order they joined. */
  handleEvent(event: Event): void {
    const told: AbortMember[] = [];
    for (let m = this.#members.shift(); m !== undefined; m = this.#members.shift()) told.push(m);
    for (const m of told) m.handleEvent(event);
  }
}
