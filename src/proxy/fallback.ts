/**
 * The exhausted path — no instance answered — and what feeds it: the `cache` fallback (the last
 * good answer to the same request), the `default` fallback (a configured response), and
 * otherwise the most precise error (the last upstream failure, every instance at its limit, or
 * nothing available and why).
 *
 * @module
 */

import {
  type GatewayError,
  NoUpstreamError,
  RateLimitedError,
  UpstreamError,
  UpstreamTimeoutError,
} from "../errors.ts";
import { rateLimitError, retryAfterSeconds } from "./access.ts";
import type { Exchange } from "./exchange.ts";
import type { CachedResponse, FallbackCache } from "./fallback_cache.ts";
import type { GatewayRequest } from "./request.ts";
import type { Upstream } from "./runtime.ts";

/** Marks an answer that came from a fallback, with its strategy (`cache` or `default`). */
const FALLBACK_HEADER = "x-dairouter-fallback";

/** Buffers a small non-streamed answer (embeddings, rerank) into the fallback cache. */
export async function remember(cache: FallbackCache, req: GatewayRequest, res: Response): Promise<Response> {
  const body = new Uint8Array(await res.arrayBuffer());
  cache.set(cache.key(req.model, req.body.bytes), {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "application/json",
    body,
  });
  return new Response(body, { status: res.status, headers: res.headers });
}

/**
 * Nothing answered: the cached answer, else the default response, else throws the error that
 * says best what happened.
 */
export function exhausted(x: Exchange): Response | Promise<Response> {
  const { svc, req } = x;
  const cached = svc.cache?.get(svc.cache.key(req.model, req.body.bytes));
  // A cache shared through Redis answers later (a miss when it cannot answer in time).
  return cached instanceof Promise ? cached.then((c) => fallBack(x, c)) : fallBack(x, cached);
}

/** The cached answer, else the default response, else the error of {@linkcode exhausted}. */
function fallBack(x: Exchange, cached: CachedResponse | undefined): Response {
  const { svc, req } = x;
  if (cached) {
    x.deps.observer.fallback(req.service, req.model, "cache");
    x.log(cached.status, undefined, undefined, "cache");
    return new Response(cached.body.slice(), {
      status: cached.status,
      headers: {
        "content-type": cached.contentType,
        [FALLBACK_HEADER]: "cache",
        "x-request-id": req.requestId,
      },
    });
  }
  const fb = svc.config.fallback;
  if (fb.enabled && fb.response) {
    x.deps.observer.fallback(req.service, req.model, "default");
    x.log(fb.response.status, undefined, undefined, "default");
    return Response.json(fb.response.body, {
      status: fb.response.status,
      headers: { [FALLBACK_HEADER]: "default", "x-request-id": req.requestId },
    });
  }
  throw exhaustedError(x);
}

/** The error of a request nothing could serve. */
function exhaustedError(x: Exchange): GatewayError {
  const { service, model } = x.req;
  const f = x.lastFailure;
  if (f?.status === 429) {
    return new RateLimitedError(
      `Service ${service} (model "${model}"): every instance is busy (${f.message}).`,
      { "retry-after": String(retryAfterSeconds(f.retryAfterMs)) },
    );
  }
  if (f?.kind === "timeout") {
    return new UpstreamTimeoutError(`Service ${service} (model "${model}"): ${f.message}.`);
  }
  if (f?.kind === "ejected") {
    return new NoUpstreamError(
      `Service ${service} (model "${model}"): ${f.message}; no other instance could take the request (${
        unavailableReason(x.pool!.upstreams, x.tried)
      }).`,
    );
  }
  if (f) return new UpstreamError(`Service ${service} (model "${model}"): ${f.message}.`);
  if (x.limitedBy) return rateLimitError("instance", x.limitedBy, service, model);
  if (x.svc.config.fallback.enabled) x.deps.observer.fallback(service, model, "default");
  return new NoUpstreamError(
    `Service ${service} has no available instance for model "${model}" (${
      unavailableReason(x.pool!.upstreams, x.tried)
    }).`,
  );
}

/** Why nothing could be picked, in words an operator can act on. */
function unavailableReason(pool: readonly Upstream[], tried: readonly Upstream[]): string {
  let unhealthy = 0, open = 0;
  for (const u of pool) {
    if (tried.includes(u)) continue;
    if (!u.health.healthy) unhealthy++;
    else if (!u.breaker.canPass()) open++;
  }
  const parts = [];
  if (unhealthy) parts.push(`${unhealthy} unhealthy`);
  if (open) parts.push(`${open} circuit-open or parked`);
  return parts.length ? parts.join(", ") : "no instance could take the request";
}
