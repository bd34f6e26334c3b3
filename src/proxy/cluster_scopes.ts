/**
 * The request-level limit scopes of one request, decided by the cluster (Redis, one round trip
 * for all of them) instead of this process's own limiters: the same scopes in the same order as
 * `checkLimits`, with the same 429 and `X-RateLimit-*` headers. While the cluster cannot answer,
 * `ClusterLimits` falls back to `checkLimits` on this replica's share of the limits (or a 503).
 *
 * @module
 */

import type { ClusterLimits } from "../cluster/limits.ts";
import { RateLimitedError } from "../errors.ts";
import type { LimitCheck } from "../limiter/backend.ts";
import type { Decision, LimitScope } from "../types.ts";
import type { DispatchObserver, GatewayRequest } from "./dispatch.ts";
import { checkLimits, rateLimitHeaders } from "./limits.ts";
import type { Runtime, ServiceRuntime } from "./runtime.ts";

/** Decides the request-level scopes of a request (the `limits` of `DispatchDeps`). */
export type ScopeLimits = (
  rt: Runtime,
  svc: ServiceRuntime,
  req: GatewayRequest,
  obs: DispatchObserver,
) => Decision | undefined | Promise<Decision | undefined>;

/** The checks of a request: global, service, client IP — those configured. */
function checksOf(rt: Runtime, svc: ServiceRuntime, req: GatewayRequest): LimitCheck[] {
  const checks: LimitCheck[] = [];
  const global = rt.config.globalRateLimit;
  if (rt.globalLimiter && global) {
    checks.push({ scope: "global", name: "global", key: "global", config: global });
  }
  const rl = svc.config.rateLimit;
  if (svc.limiter && rl) {
    checks.push({ scope: "service", name: `service:${svc.kind}`, key: "service", config: rl });
  }
  if (svc.ipLimiter && rl) {
    checks.push({ scope: "client-ip", name: `client-ip:${svc.kind}`, key: req.clientIp, config: rl });
  }
  return checks;
}

function denial(
  scope: LimitScope,
  d: Decision,
  req: GatewayRequest,
  obs: DispatchObserver,
): RateLimitedError {
  obs.rateLimited(scope, req.service);
  return new RateLimitedError(
    `Rate limit exceeded for ${scope === "global" ? "the gateway" : `${scope} of service ${req.service}`}; ` +
      `retry after ${Math.max(1, Math.ceil(d.retryAfterMs / 1000))} s.`,
    rateLimitHeaders(d, true),
  );
}

/**
 * The cluster's {@linkcode ScopeLimits}: one call to the shared backend for every scope, the
 * tightest admitting decision for the headers, a 429 naming the first scope that denied.
 */
export function clusterScopes(limits: ClusterLimits): ScopeLimits {
  return (rt, svc, req, obs) => {
    const checks = checksOf(rt, svc, req);
    if (checks.length === 0) return undefined;
    const local = () => checkLimits(rt, svc, req, obs);
    const answer = limits.decide(checks, local);
    if (!(answer instanceof Promise)) return answer;
    return answer.then((v) => {
      if (v === undefined || !("denied" in v)) return v;
      if (v.denied >= 0) throw denial(checks[v.denied].scope, v.decisions[v.denied], req, obs);
      let tightest: Decision | undefined;
      for (const d of v.decisions) {
        if (!tightest || d.remaining / d.limit < tightest.remaining / tightest.limit) tightest = d;
      }
      return tightest;
    });
  };
}
