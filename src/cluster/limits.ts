/**
 * Cluster-wide limits with a deadline and a way out: each request's checks go to the shared
 * backend (Redis, one round trip) while the link is up; while it is down, or when a call misses
 * its deadline, `state.on-unavailable` decides — `local` answers from this replica's own
 * limiters (built with the limits divided by `replicas`, so the cluster as a whole stays within
 * the configured limit), `deny` refuses with {@linkcode LimitsUnavailableError} (503). A call
 * that missed its deadline leaves nothing behind: the Redis backend undoes it if Redis runs it
 * late (`createRedisLimits`), so a request is never counted both here and there.
 *
 * @module
 */

import { LimitsUnavailableError } from "../errors.ts";
import type { LimitBackend, LimitCheck, LimitVerdict } from "../limiter/backend.ts";

/** Options of {@linkcode createClusterLimits}. */
export interface ClusterLimitsOptions {
  /** The shared backend (`createRedisLimits`). */
  readonly backend: LimitBackend;
  /** Whether the shared backend is reachable now (the Redis link's `up`). */
  readonly up: () => boolean;
  /** What to do while it is not. */
  readonly onUnavailable: "local" | "deny";
  /** Called once per decision that fell back (metrics). */
  readonly fellBack?: (reason: "down" | "error") => void;
}

/** Decides checks cluster-wide, or falls back. */
export interface ClusterLimits {
  /**
   * The shared verdict for `checks`, or `local()` when the backend cannot answer and
   * `on-unavailable` is `local`; throws {@linkcode LimitsUnavailableError} when it is `deny`.
   */
  decide<T>(
    checks: readonly LimitCheck[],
    local: () => T,
    extra?: readonly LimitCheck[],
  ): Promise<LimitVerdict | T> | LimitVerdict | T;
  /**
   * Corrects an admission made at `at` by each check's signed cost (token limits: estimate
   * reserved, then usage reported). Best effort: while the backend is down, or for an admission
   * decided locally, nothing is corrected (the in-process limiters have no correction yet).
   */
  adjust(checks: readonly LimitCheck[], at: number): Promise<void>;
}

/**
 * Creates the cluster limits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createClusterLimits } from "./limits.ts";
 * const limits = createClusterLimits({
 *   backend: { decide: () => Promise.reject(new Error("down")), rewarm() {} },
 *   up: () => false,
 *   onUnavailable: "local",
 * });
 * assert.equal(limits.decide([], () => "local answer"), "local answer");
 * ```
 */
export function createClusterLimits(options: ClusterLimitsOptions): ClusterLimits {
  const { backend, up, onUnavailable, fellBack } = options;
  if (onUnavailable !== "local" && onUnavailable !== "deny") {
    throw new RangeError(
      `Cannot create cluster limits: "onUnavailable" must be "local" or "deny", received ${onUnavailable}`,
    );
  }
  const fallback = <T>(local: () => T, reason: "down" | "error"): T => {
    fellBack?.(reason);
    if (onUnavailable === "deny") throw new LimitsUnavailableError();
    return local();
  };
  return {
    decide(checks, local, extra) {
      if (!up()) return fallback(local, "down");
      let pending: Promise<LimitVerdict> | LimitVerdict;
      try {
        pending = backend.decide(checks, extra);
      } catch {
        return fallback(local, "error");
      }
      return pending instanceof Promise ? pending.catch(() => fallback(local, "error")) : pending;
    },
    async adjust(checks, at) {
      if (!up() || backend.adjust === undefined) return;
      try {
        await backend.adjust(checks, at);
      } catch {
        fellBack?.("error");
      }
    },
  };
}
