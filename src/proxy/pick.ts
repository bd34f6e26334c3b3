/**
 * What the balancing strategy sees of one request: its affinity key (`load-balance.hash-key`)
 * and which instances it may still pick. This is where per-request inputs reach `pick()`: a
 * prompt hash for prefix affinity, or a token estimate for load-aware routing, join the
 * {@linkcode PickContext} built here; per-instance load signals reach the strategy through the
 * instances' own stats, which it already reads.
 *
 * @module
 */

import type { PickContext } from "../types.ts";
import type { GatewayRequest } from "./request.ts";
import type { ServiceRuntime, Upstream } from "./runtime.ts";

/**
 * The affinity key of a request for hashing strategies: the client IP, a header
 * (`header:X-Session-Id`, falling back to the IP) or the body's `user` (`body:user`).
 */
export function hashKey(svc: ServiceRuntime, req: GatewayRequest): string {
  const spec = svc.config.loadBalance.hashKey;
  if (spec === "client-ip") return req.clientIp;
  if (spec.startsWith("header:")) return req.clientHeaders.get(spec.slice(7)) ?? req.clientIp;
  if (spec === "body:user" && req.body.kind === "json") {
    const user = req.body.value.user;
    return typeof user === "string" ? user : req.clientIp;
  }
  return req.clientIp;
}

/**
 * The strategy's input for every pick of one request: an instance is eligible while it is not
 * in `tried`, is healthy, and its breaker would admit a request.
 */
export function pickInput(
  svc: ServiceRuntime,
  req: GatewayRequest,
  tried: readonly Upstream[],
): PickContext<Upstream> {
  return {
    key: hashKey(svc, req),
    eligible: (u) => !tried.includes(u) && u.health.healthy && u.breaker.canPass(),
  };
}
