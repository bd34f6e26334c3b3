/**
 * What the balancing strategy sees of one request: its affinity key (`load-balance.hash-key`),
 * which instances it may still pick, each instance's engine load (`engineLoadOf`: the scraped
 * signal when trusted, corrected by what the gateway sent since; `undefined` otherwise; passed
 * only for a pool with scraped instances, so other pools pay nothing for it), and —
 * only for a pool whose strategy reads them (`prefix-affinity`) — the prompt's chained block
 * hashes. Built once per request and pool ({@linkcode pickInput}; a fallback model or a reload's
 * live pool gets its own); every attempt's pick in that pool reuses it.
 *
 * @module
 */

import { engineLoadOf } from "../signals/instance_signal.ts";
import type { PickContext } from "../types.ts";
import type { GatewayRequest } from "./request.ts";
import type { ModelPool, ServiceRuntime, Upstream } from "./runtime_types.ts";

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
 * in `tried`, is healthy, its breaker would admit a request, and — in a pool with admission
 * limits — it has room (`hasRoom`, the admission queue's gate).
 */
export function pickInput(
  svc: ServiceRuntime,
  pool: ModelPool,
  req: GatewayRequest,
  tried: readonly Upstream[],
  hasRoom?: (u: Upstream) => boolean,
): PickContext<Upstream> {
  const hash = pool.hashPrompt;
  return {
    key: hashKey(svc, req),
    eligible: hasRoom === undefined
      ? (u) => !tried.includes(u) && u.health.healthy && u.breaker.canPass()
      : (u) => !tried.includes(u) && u.health.healthy && u.breaker.canPass() && hasRoom(u),
    load: pool.signals ? engineLoadOf : undefined,
    promptHashes: hash !== undefined && req.body.kind === "json" ? hash(req.body.value) : undefined,
  };
}
