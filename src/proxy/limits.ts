/**
 * The request-level limiters of one request — global, then service, then client IP — and the
 * headers a limited (or nearly limited) client gets.
 *
 * @module
 */

import { RateLimitedError } from "../errors.ts";
import type { Decision } from "../types.ts";
import type { DispatchObserver, GatewayRequest } from "./dispatch.ts";
import type { Runtime, ServiceRuntime } from "./runtime.ts";

/** RFC 9110 `Retry-After` plus the de-facto `X-RateLimit-*` headers. */
export function rateLimitHeaders(d: Decision, denied: boolean): Record<string, string> {
  const h: Record<string, string> = {
    "x-ratelimit-limit": String(d.limit),
    "x-ratelimit-remaining": String(Math.max(0, Math.floor(d.remaining))),
    "x-ratelimit-reset": String(Math.ceil(d.resetMs / 1000)),
  };
  // A cost above capacity can never pass (retryAfterMs = Infinity): say "a minute", not "Infinity".
  const wait = Number.isFinite(d.retryAfterMs) ? d.retryAfterMs : 60_000;
  if (denied) h["retry-after"] = String(Math.max(1, Math.ceil(wait / 1000)));
  return h;
}

/**
 * Global → service → client IP; all that apply are consulted, the first denial throws a 429.
 * Returns the tightest decision that allowed the request, for the `X-RateLimit-*` headers.
 */
export function checkLimits(rt: Runtime, svc: ServiceRuntime, req: GatewayRequest, obs: DispatchObserver) {
  let tightest: Decision | undefined;
  const steps: Array<[string, typeof svc.limiter, string]> = [
    ["global", rt.globalLimiter, "global"],
    ["service", svc.limiter, "service"],
    ["client-ip", svc.ipLimiter, req.clientIp],
  ];
  for (const [scope, limiter, key] of steps) {
    if (!limiter) continue;
    const d = limiter.take(key);
    if (!d.allowed) {
      obs.rateLimited(scope, req.service);
      throw new RateLimitedError(
        `Rate limit exceeded for ${
          scope === "global" ? "the gateway" : `${scope} of service ${req.service}`
        }; ` +
          `retry after ${Math.max(1, Math.ceil(d.retryAfterMs / 1000))} s.`,
        rateLimitHeaders(d, true),
      );
    }
    if (!tightest || d.remaining / d.limit < tightest.remaining / tightest.limit) tightest = d;
  }
  return tightest;
}
