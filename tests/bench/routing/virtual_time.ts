/**
 * Virtual time for the routing simulation: a discrete-event loop over a binary heap. Every timer
 * of the simulated gateway and engines lives here; `run` pops them in time order (ties in the
 * order they were set), so a run depends on its seed alone — never on the machine or its load.
 *
 * @module
 */

import type { TimerApi } from "../../../src/proxy/deadlines.ts";

interface Timer {
  at: number;
  seq: number;
  fn: (() => void) | undefined;
}

/** A clock and timers that move only as {@linkcode VirtualTime.run} pops events. */
export class VirtualTime implements TimerApi {
  #now = 0;
  #seq = 0;
  readonly #heap: Timer[] = [];
  /** Events run so far. */
  events = 0;

  /** Virtual ms since the start. */
  readonly now = (): number => this.#now;

  /** Runs `fn` once `ms` have passed; returns a cancel function (the `Schedule` shape). */
  readonly schedule = (fn: () => void, ms: number): () => void => {
    const t: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#push(t);
    return () => void (t.fn = undefined);
  };

  /** {@linkcode TimerApi}, for the gateway's `DeadlineSweep`. */
  readonly setTimeout = (fn: () => void, ms: number): unknown => this.schedule(fn, ms);
  readonly clearTimeout = (id: unknown): void => (id as () => void)();

  /** Runs events in time order until none is left or the next is after `until`. */
  run(until = Infinity): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].at <= until) {
      const t = this.#pop();
      if (t.fn === undefined) continue;
      this.#now = t.at;
      this.events++;
      t.fn();
    }
    if (until !== Infinity) this.#now = Math.max(this.#now, until);
  }

  #less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(t: Timer): void {
    const heap = this.#heap;
    heap.push(t);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #pop(): Timer {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.#less(heap[l], heap[m])) m = l;
        if (r < heap.length && this.#less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}
