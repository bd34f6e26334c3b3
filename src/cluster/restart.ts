/**
 * When the supervisor of `server.workers` starts a fresh worker in place of one that failed: after
 * a delay that doubles with each failure in a row (0.5 s, 1 s, 2 s … up to 30 s), so that a worker
 * that fails as it starts does not spin, while one that fails once after a long run is back at once.
 * A worker that ran {@linkcode RestartPolicy.stableMs} before failing starts a new streak.
 *
 * @module
 */

import type { Clock } from "../types.ts";

/** How restarts back off. */
export interface RestartPolicy {
  /** The wait before the first restart of a streak, ms. @default {500} */
  readonly firstDelayMs: number;
  /** The longest wait, ms. @default {30000} */
  readonly maxDelayMs: number;
  /** A worker that ran this long before failing starts a new streak, ms. @default {60000} */
  readonly stableMs: number;
}

/** The policy of `main.ts`. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  firstDelayMs: 500,
  maxDelayMs: 30_000,
  stableMs: 60_000,
};

/** One worker slot's restart streak. */
export interface RestartBackoff {
  /** A worker was started in this slot (now). */
  started(): void;
  /** It failed: the wait before the next one, ms. */
  failed(): number;
}

/**
 * Creates the restart backoff of one worker slot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRestartBackoff } from "./restart.ts";
 * let now = 0;
 * const backoff = createRestartBackoff({ firstDelayMs: 500, maxDelayMs: 2000, stableMs: 60_000 }, () => now);
 * const delays = [];
 * for (let i = 0; i < 5; i++) (backoff.started(), delays.push(backoff.failed()));
 * assert.deepEqual(delays, [500, 1000, 2000, 2000, 2000]);
 * backoff.started();
 * now += 60_000; // a long run: the next failure starts a new streak
 * assert.equal(backoff.failed(), 500);
 * ```
 */
export function createRestartBackoff(policy: RestartPolicy, clock: Clock): RestartBackoff {
  for (const key of ["firstDelayMs", "maxDelayMs", "stableMs"] as const) {
    if (!(Number.isFinite(policy[key]) && policy[key] >= 0)) {
      throw new RangeError(`Cannot create restart backoff: "${key}" must be >= 0, received ${policy[key]}`);
    }
  }
  let streak = 0;
  let since = clock();
  return {
    started() {
      since = clock();
    },
    failed() {
      if (clock() - since >= policy.stableMs) streak = 0;
      return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** streak++);
    },
  };
}
