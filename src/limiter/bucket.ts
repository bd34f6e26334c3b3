/**
 * The core the two buckets share. A bucket holds an amount in [0, capacity] that the clock moves
 * one way at `rate` per second, scaled by the warm-up ramp, and that admitted requests move the
 * other way: the token bucket's tokens refill up to `capacity` and requests take them; the leaky
 * bucket's level leaks down to 0 and requests pour into it. One is the mirror of the other.
 *
 * {@linkcode Bucket} keeps the state, the clock, the exact waits, warm-up and parsing; each
 * subclass says which way its amount moves. The subclasses spell out their own arithmetic rather
 * than mapping one bucket onto the other (`level = capacity − tokens`), which would change
 * results by float rounding.
 *
 * @module
 */

import type { Decision, LimitAlgorithm } from "../types.ts";
import {
  allowed,
  ceilMs,
  denied,
  isFiniteNumber,
  type LimitParams,
  type LimitStepper,
  taggedRecord,
  type TaggedState,
  whole,
} from "./stepper.ts";
import { warmFraction, warmIntegral, warmTimeForArea, type WarmUp } from "./warm_up.ts";

/** State of one bucket with tag `A`; each bucket adds the field that holds its amount. */
export interface BucketState<A extends string> extends TaggedState<A> {
  /** When the amount was last brought up to date. */
  readonly t: number;
}

/**
 * A bucket's step functions. Subclasses supply the direction as methods (cheap to dispatch
 * between the two classes, unlike callbacks), over amounts in [0, capacity].
 */
export abstract class Bucket<S extends BucketState<string>> implements LimitStepper<S> {
  abstract readonly name: LimitAlgorithm;
  readonly params: LimitParams;
  /** The validated capacity. */
  protected readonly capacity: number;
  private readonly warmUp: WarmUp | undefined;
  /** Units the clock moves per ms at the full rate. */
  private readonly perMs: number;

  /** `params` must be validated (capacity and rate). */
  constructor(params: LimitParams) {
    this.params = params;
    this.capacity = params.capacity;
    this.warmUp = params.warmUp;
    this.perMs = params.rate / 1000;
  }

  /** The state tag. */
  protected abstract readonly tag: S["a"];
  /** The state field that holds the amount. */
  protected abstract readonly field: string;
  /** The amount of a fresh bucket while the ramp is at `fraction` of the full rate. */
  protected abstract initial(fraction: number): number;
  /** A state from its parts. */
  protected abstract make(ws: number, t: number, amount: number): S;
  /** A restored amount made safe to use (the capacity may have shrunk since it was saved). */
  protected abstract clamp(amount: number): number;
  /** The amount of a state. */
  protected abstract amount(state: S): number;
  /** The amount after the clock has moved it by `units` (refilled or leaked). */
  protected abstract elapse(amount: number, units: number): number;
  /** Whether a request of `cost` fits now. */
  protected abstract fits(amount: number, cost: number): boolean;
  /** The amount after admitting a request of `cost` that fits. */
  protected abstract admit(amount: number, cost: number): number;
  /** How much a request could still take now (before rounding to whole units). */
  protected abstract room(amount: number): number;
  /** How many units the clock must move before a request of `cost` fits (`Infinity`: never). */
  protected abstract shortfall(amount: number, cost: number): number;
  /** Whether the amount is where time leaves it, as in a fresh bucket past warm-up. */
  protected abstract rested(amount: number): boolean;
  /** Of two amounts, the one that leaves less room (a re-warm keeps no more than a fresh bucket). */
  protected abstract tighter(a: number, b: number): number;
  /** The amount after `delta` more (> 0) or less (< 0) was taken, within one capacity of debt. */
  protected abstract charge(amount: number, delta: number): number;

  init(now: number, warmStart: number = now): S {
    return this.make(warmStart, now, this.initial(warmFraction(this.warmUp, warmStart, now)));
  }

  step(state: S, now: number, cost: number): [S, Decision] {
    const s = this.advance(state, now);
    const amount = this.amount(s);
    const capacity = this.capacity;
    if (this.fits(amount, cost)) {
      const after = this.admit(amount, cost);
      // Back to full capacity when a request of the whole capacity would fit.
      const resetMs = this.wait(s, now, this.shortfall(after, capacity));
      return [this.make(s.ws, s.t, after), allowed(capacity, whole(this.room(after)), resetMs)];
    }
    const retryAfterMs = this.wait(s, now, this.shortfall(amount, cost));
    const resetMs = this.wait(s, now, this.shortfall(amount, capacity));
    return [s, denied(capacity, whole(this.room(amount)), retryAfterMs, resetMs)];
  }

  peek(state: S, now: number, cost: number): Decision {
    return this.step(state, now, cost)[1];
  }

  adjust(state: S, now: number, delta: number): S {
    const s = this.advance(state, now);
    return this.make(s.ws, s.t, this.charge(this.amount(s), delta));
  }

  rewarm(state: S, now: number): S {
    const s = this.advance(state, now);
    const fresh = this.initial(warmFraction(this.warmUp, now, now));
    return this.make(now, s.t, this.tighter(this.amount(s), fresh));
  }

  isIdle(state: S, now: number): boolean {
    return warmFraction(this.warmUp, state.ws, now) === 1 &&
      this.rested(this.amount(this.advance(state, now)));
  }

  parse(value: unknown): S | undefined {
    const v = taggedRecord(value, this.tag);
    if (v === undefined || !isFiniteNumber(v.t)) return undefined;
    const amount = v[this.field];
    if (!isFiniteNumber(amount) || amount < 0) return undefined;
    return this.make(v.ws, v.t, amount);
  }

  /** The state brought up to `now`. */
  private advance(s: S, now: number): S {
    const amount = this.amount(s);
    if (now <= s.t) {
      // A clock that went backwards moves nothing.
      const kept = this.clamp(amount);
      return kept === amount ? s : this.make(s.ws, s.t, kept);
    }
    const units = this.perMs * warmIntegral(this.warmUp, s.ws, s.t, now);
    return this.make(s.ws, now, this.elapse(amount, units));
  }

  /** Ms from `now` until the clock has moved the amount of `s` by `units` (times relative to `now`). */
  private wait(s: S, now: number, units: number): number {
    if (units === Infinity) return Infinity;
    return ceilMs(warmTimeForArea(this.warmUp, s.ws - now, Math.max(0, s.t - now), units / this.perMs));
  }
}
