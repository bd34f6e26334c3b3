/**
 * What an attempt's end means for its instance: breaker, passive health, latency and error
 * EWMAs, metrics, and the in-flight count (admission slot) it took.
 *
 * @module
 */

import { observeLatency, observeOutcome } from "../balancer/mod.ts";
import type { DispatchObserver, Settlement } from "./request.ts";
import type { Upstream } from "./runtime_types.ts";

/**
 * Records the end of one attempt on the instance, exactly once per attempt: its in-flight count
 * (its admission slot) is released, and a request waiting for a slot may take it.
 */
export function recordOutcome(u: Upstream, s: Settlement, now: number, observer: DispatchObserver): void {
  u.stats.inFlight--;
  record(u, s, now, observer);
  u.admission?.drain();
}

/** Releases a slot taken for an attempt that never started (its adapter refused the request). */
export function release(u: Upstream): void {
  u.stats.inFlight--;
  u.admission?.drain();
}

function record(u: Upstream, s: Settlement, now: number, observer: DispatchObserver): void {
  switch (s.outcome) {
    case "success":
      u.breaker.onSuccess();
      u.health.passiveResult(true);
      observeOutcome(u.stats, true);
      if (s.ttfbMs !== undefined) observeLatency(u.stats, s.ttfbMs);
      return;
    case "ignored":
      u.breaker.onIgnored();
      u.health.passiveResult(true);
      return;
    case "abort":
      u.breaker.onIgnored();
      return;
    case "failure":
      // An upstream that says "busy, come back in N s" is parked, not broken.
      if ((s.status === 429 || s.status === 503) && s.retryAfterMs !== undefined) {
        u.breaker.onIgnored();
        u.breaker.park(now + s.retryAfterMs);
        return;
      }
      u.breaker.onFailure();
      u.health.passiveResult(false);
      observeOutcome(u.stats, false);
      observer.upstreamError(u, s.kind ?? "unknown");
  }
}
