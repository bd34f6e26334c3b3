/**
 * What an attempt's end means for its instance (breaker, passive health, latency EWMA, metrics),
 * and the words for a request nothing could serve.
 *
 * @module
 */

import { observeLatency, observeOutcome } from "../balancer/mod.ts";
import { type GatewayError, UpstreamError, UpstreamTimeoutError } from "../errors.ts";
import type { ServiceKind } from "../types.ts";
import type { DispatchDeps } from "./dispatch.ts";
import type { AttemptFailure, Settlement } from "./forward.ts";
import type { Upstream } from "./runtime.ts";

/** Records the end of one attempt on the instance: exactly once per attempt. */
export function recordOutcome(u: Upstream, s: Settlement, now: number, deps: DispatchDeps): void {
  u.stats.inFlight--;
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
      deps.observer.upstreamError(u, s.kind ?? "unknown");
  }
}

export function failureError(f: AttemptFailure, svc: ServiceKind, model: string): GatewayError {
  if (f.kind === "timeout") {
    return new UpstreamTimeoutError(`Service ${svc} (model "${model}"): ${f.message}.`);
  }
  return new UpstreamError(`Service ${svc} (model "${model}"): ${f.message}.`);
}

/** Why nothing could be picked, in words an operator can act on. */
export function unavailableReason(pool: readonly Upstream[], tried: ReadonlySet<Upstream>): string {
  let unhealthy = 0, open = 0;
  for (const u of pool) {
    if (tried.has(u)) continue;
    if (!u.health.healthy) unhealthy++;
    else if (!u.breaker.canPass()) open++;
  }
  const parts = [];
  if (unhealthy) parts.push(`${unhealthy} unhealthy`);
  if (open) parts.push(`${open} circuit-open or parked`);
  return parts.length ? parts.join(", ") : "no instance could take the request";
}
