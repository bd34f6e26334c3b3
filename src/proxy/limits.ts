/**
 * The request-level limiters of one request — global, then service, then client IP — and the
 * headers a limited (or nearly limited) client gets.
 *
 * @module
 */

import { RateLimitedError } from "../errors.ts";
import type { Decision } from "../types.ts";
import type { DispatchObserver, GatewayRequest } from "./dispatch.ts";
import type { KeyedLimiter } from "../limiter/mod.ts";
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
export function checkLimits(
  rt: Runtime,
  svc: ServiceRuntime,
  req: GatewayRequest,
  obs: DispatchObserver,
): Decision | undefined {
  // Three plain calls, no per-request list of steps: this runs for every request.
  let tightest = consult("global", rt.globalLimiter, "global", undefined, req, obs);
  tightest = consult("service", svc.limiter, "service", tightest, req, obs);
  return consult("client-ip", svc.ipLimiter, req.clientIp, tightest, req, obs);
}

/** Takes from one limiter (when configured): throws the 429, or returns the tighter decision. */
function consult(
  scope: string,
  limiter: KeyedLimiter | undefined,
  key: string,
  tightest: Decision | undefined,
  req: GatewayRequest,
  obs: DispatchObserver,
): Decision | undefined {
  if (!limiter) return tightest;
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
  return !tightest || d.remaining / d.limit < tightest.remaining / tightest.limit ? d : tightest;
}
