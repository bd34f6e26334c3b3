/**
 * The rules of one request, steps 2–8 of the design: access and limits → candidates → exactly
 * one pick → adapter → attempt → outcome recorded once → failover (bounded) → the next model of
 * the fallback chain → fallback.
 * Testable without Hono: it takes a parsed {@linkcode GatewayRequest} and returns a `Response`.
 *
 * Where capabilities plug in: `access.ts` (`ScopeDecider`: cluster-wide limits, token charges and
 * their correction), `Picking.next` (the admission queue: a request may wait there for a slot),
 * `pick.ts` (per-request inputs of the strategy: engine loads, prompt hashes), `upstream_call.ts`
 * (what each attempt sends: upstream model names, client dialects natively or translated), and a
 * {@linkcode RequestHandler} wrapping `dispatch`.
 *
 * @module
 */

import { ShuttingDownError } from "../errors.ts";
import { admit, isDenial, localLimits } from "./access.ts";
import { Exchange } from "./exchange.ts";
import { exhausted, remember, substitute } from "./fallback.ts";
import { estimateTokens } from "./token_estimate.ts";
import type { DispatchDeps, GatewayRequest } from "./request.ts";
import type { Runtime } from "./runtime_types.ts";

export type { DispatchDeps, DispatchObserver, GatewayRequest, RequestHandler } from "./request.ts";

/**
 * Serves one request. Throws a `GatewayError` for client-visible errors (the HTTP layer maps
 * it); returns the upstream's response (or a fallback) otherwise. Exactly one access-log line
 * is written per request, when it ends. It is the innermost {@linkcode RequestHandler}.
 */
export async function dispatch(rt: Runtime, deps: DispatchDeps, req: GatewayRequest): Promise<Response> {
  const svc = rt.services[req.service];
  const x = new Exchange(rt, deps, svc, req);
  try {
    const tokens = svc.countsTokens ? estimateTokens(req.body) : undefined;
    let admission = admit(rt, svc, req, x.route, deps.limits ?? localLimits, tokens ?? 0);
    if (admission instanceof Promise) admission = await admission;
    if (isDenial(admission)) throw x.denied(admission);
    x.limits = admission;
    x.tokens = tokens;

    // Each model of the fallback chain in turn, while one has no instance that can take the request.
    for (;;) {
      let u = x.next();
      if (u instanceof Promise) u = await u; // a cluster limit's answer, or a wait for a slot
      if (u === undefined) u = await substitute(x);
      if (u === undefined) break;
      const attempt = x.start(u);
      const result = await attempt.run();
      if (result instanceof Response) {
        x.commit(attempt);
        if (svc.cache && result.ok && !req.stream) return await remember(svc.cache, req, result);
        return result;
      }
      if (result.kind === "shutdown") throw new ShuttingDownError();
      if (result.kind === "abort") return x.abandoned(attempt);
      deps.observer.attemptFailed?.(attempt.upstream, result.kind);
      if (!x.mayRetry(result)) break;
    }
    return await exhausted(x);
  } catch (error) {
    x.failed(error);
    throw error;
  }
}
