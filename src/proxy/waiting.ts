/**
 * Per instance, the attempts still waiting for their first byte: the ones an ejection can fail over
 * (nothing reached their client yet), and the ones outlier detection watches (the oldest is the
 * head). A {@linkcode LinkedList} of the attempts' own links, so joining and leaving are O(1) and
 * allocate nothing; leaving is idempotent, so every path (first byte, failure, ejection, abort) may
 * call it and the attempt is released exactly once.
 *
 * The lists outlive one runtime (kept by instance id, like the in-flight counts), so an ejection
 * reaches attempts started on the table before a config reload.
 *
 * @module
 */

import type { FirstByteTimes, InstanceProgress } from "../health/outlier.ts";
import { type Link, LinkedList } from "../linked_list.ts";

/** An attempt as a member of its instance's {@linkcode WaitingList}. */
export interface Waiter {
  /** Its place in a waiting list. */
  readonly waitLink: Link<Waiter>;
  /** When it began (request clock, ms). */
  readonly startedAt: number;
  /** Its instance was ejected (it is already out of the list): give up so the request fails over. */
  ejected(reason: string): void;
}

/**
 * How many attempts wait over all instances, told when that number leaves or reaches zero: the
 * outlier monitor watches only while someone waits.
 */
export class WaitCount {
  /** Attempts waiting for a first byte, over all instances. */
  waiting = 0;
  /** Called when the first attempt starts waiting. */
  onBusy: (() => void) | undefined = undefined;
  /** Called when the last waiting attempt stops waiting. */
  onIdle: (() => void) | undefined = undefined;
}

/** The attempts of one instance waiting for their first byte, oldest first. */
export class WaitingList {
  readonly #waiters = new LinkedList<Waiter>();

  /**
   * @param count The gateway-wide count.
   * @param times The first-byte times of the instance's pool (a success's time is recorded there).
   * @param progress What outlier detection remembers of the instance.
   */
  constructor(
    readonly count: WaitCount,
    readonly times: FirstByteTimes,
    readonly progress: InstanceProgress,
  ) {}

  /** Attempts waiting. */
  get size(): number {
    return this.#waiters.size;
  }

  /** When the oldest waiting attempt began (`undefined`: none waits). */
  get oldestStart(): number | undefined {
    return this.#waiters.first?.startedAt;
  }

  /** `w` starts waiting (attempts join in the order they begin, so the head is the oldest). */
  add(w: Waiter): void {
    if (!this.#waiters.push(w.waitLink)) return;
    if (this.count.waiting++ === 0) this.count.onBusy?.();
  }

  /** `w` stops waiting (a no-op when it is not in this list). */
  remove(w: Waiter): void {
    if (!this.#waiters.remove(w.waitLink)) return;
    if (--this.count.waiting === 0) this.count.onIdle?.();
  }

  /**
   * `w`'s first byte arrived at `now`: it leaves the list, and the instance made progress. A
   * successful answer's first-byte time (`ttfbMs`) joins the pool's reference.
   */
  served(w: Waiter, now: number, ttfbMs: number | undefined): void {
    this.remove(w);
    this.progress.served(w.startedAt, now);
    if (ttfbMs !== undefined) this.times.record(ttfbMs);
  }

  /** The instance was ejected: every waiting attempt leaves and is told. Returns how many. */
  ejectAll(reason: string): number {
    let n = 0;
    for (let w = this.#waiters.first; w !== undefined; w = this.#waiters.first) {
      this.remove(w);
      w.ejected(reason);
      n++;
    }
    return n;
  }
}
