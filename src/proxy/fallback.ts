/**
 * The exhausted path — no instance answered — and what feeds it: the next model of the fallback
 * chain (`fallbacks`) while a model has no instance that can take the request, then the `cache`
 * fallback (the last good answer to the same request), the `default` fallback (a configured
 * response), and otherwise the most precise error (the last upstream failure, every instance at
 * its limit, or nothing available and why).
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
import type { ModelPool, Upstream } from "./runtime_types.ts";
import { modelAllowed } from "./api_keys.ts";
import { type ChunkReader, chunkReader } from "./chunk_reader.ts";
import { readToEnd } from "./upstream_body.ts";
import { cutError } from "./tracked_body.ts";

/** Marks an answer that came from a fallback, with its strategy (`cache`, `default` or `model`). */
const FALLBACK_HEADER = "x-dairouter-fallback";

/**
 * The request header by which a client forbids an answer from another model than the one it
 * named (any value but `false` or `0`): no fallback chain is followed for it.
 */
export const NO_SUBSTITUTE_HEADER = "x-dairouter-no-substitute";

/** Whether the client sent {@linkcode NO_SUBSTITUTE_HEADER}. */
export function forbidsSubstitute(req: GatewayRequest): boolean {
  const v = req.clientHeaders.get(NO_SUBSTITUTE_HEADER);
  if (v === null) return false;
  const t = v.trim().toLowerCase();
  return t !== "false" && t !== "0";
}

/**
 * No instance of the current model can take the request (down, circuit open, limited, all
 * tried): moves to the next model of the route's fallback chain that the client's key may use
 * and returns the instance picked there (after a wait in that model's admission queue when every
 * instance there is full); `undefined` when the chain is spent, the client
 * forbade substitution, or `retry.max-attempts` / `retry.budget` allow no further attempt.
 */
export async function substitute(x: Exchange): Promise<Upstream | undefined> {
  const chain = x.route!.fallbacks;
  if (x.chainAt >= chain.length || forbidsSubstitute(x.req)) return undefined;
  const key = x.req.apiKey;
  while (x.chainAt < chain.length && x.withinBudget()) {
    const pool = chain[x.chainAt++];
    if (key !== undefined && !modelAllowed(key, pool.name)) continue;
    if (!x.substitute(pool)) continue; // a reload removed it (see `Picking.substitute`)
    const u = await x.next();
    if (u !== undefined) return u;
  }
  return undefined;
}

/** The fallback cache's key: the model, the dialect the answer is in, the request's bytes. */
function cacheKey(cache: FallbackCache, req: GatewayRequest): string {
  return cache.key(req.dialect ? `${req.dialect.name}:${req.model}` : req.model, req.body.bytes);
}

/**
 * Largest answer the fallback cache keeps: small answers (chat, embeddings, rerank, short speech).
 * A larger one (an image, long audio) is relayed as it comes and not kept, so `cache-size` entries
 * hold at most `cache-size` MiB and no answer is held whole in memory for the cache.
 */
export const CACHE_ENTRY_MAX = 1024 * 1024;

/**
 * Keeps a small non-streamed answer in the fallback cache: reads up to {@linkcode CACHE_ENTRY_MAX};
 * a complete answer is cached, a longer one goes on to the client uncached (what was read, then
 * the rest as it arrives).
 */
export async function remember(cache: FallbackCache, req: GatewayRequest, res: Response): Promise<Response> {
  if (!res.body) return res;
  const reader = chunkReader(res.body);
  let read: Awaited<ReturnType<typeof readToEnd>>;
  try {
    read = await readToEnd(reader, CACHE_ENTRY_MAX);
  } catch (error) {
    // The attempt already ended (and logged) as a cut body: the client gets one, as it would
    // without the cache, not a second answer.
    return new Response(cutBody(error), { status: res.status, headers: res.headers });
  }
  const { bytes, complete } = read;
  if (!complete) return new Response(replayed(bytes, reader), { status: res.status, headers: res.headers });
  const body = bytes.slice(); // exact size: the read buffer may be up to twice the answer
  cache.set(cacheKey(cache, req), {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "application/json",
    body,
  });
  return new Response(body as Uint8Array<ArrayBuffer>, { status: res.status, headers: res.headers });
}

/** A body that errors at once, as a body cut by its upstream does (see `cutError`). */
function cutBody(error: unknown): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.error(cutError(error)) });
}

/** `head`, then the rest of `reader`; a client that leaves cancels the reader (and the upstream). */
function replayed(head: Uint8Array, reader: ChunkReader): ReadableStream<Uint8Array> {
  let first: Uint8Array | undefined = head;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const part = first ?? await reader.read();
      first = undefined;
      if (part === undefined) controller.close();
      else controller.enqueue(part);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

/**
 * Nothing answered: the cached answer, else the default response, else throws the error that
 * says best what happened.
 */
export function exhausted(x: Exchange): Response | Promise<Response> {
  const { svc, req } = x;
  const cached = svc.cache?.get(cacheKey(svc.cache, req));
  // A cache shared through Redis answers later (a miss when it cannot answer in time).
  return cached instanceof Promise ? cached.then((c) => fallBack(x, c)) : fallBack(x, cached);
}

/** The cached answer, else the default response, else the error of {@linkcode exhausted}. */
function fallBack(x: Exchange, cached: CachedResponse | undefined): Response {
  const { svc, req } = x;
  if (cached) {
    // Counted under the model served, never the name the client sent (a pattern alias admits any).
    x.deps.observer.fallback(req.service, x.route!.pool.name, "cache");
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
  const body = fb.enabled && fb.response ? defaultBody(x, fb.response) : undefined;
  if (body !== undefined) {
    x.deps.observer.fallback(req.service, x.route!.pool.name, "default");
    x.log(fb.response!.status, undefined, undefined, "default");
    return Response.json(body.value, {
      status: fb.response!.status,
      headers: { [FALLBACK_HEADER]: "default", "x-request-id": req.requestId },
    });
  }
  throw exhaustedError(x);
}

/**
 * The configured `default` answer, in the client's dialect when it spoke one (a success is
 * translated from OpenAI's shape; one that does not translate is not sent).
 */
function defaultBody(
  x: Exchange,
  response: { status: number; body: unknown },
): { value: unknown } | undefined {
  const dialect = x.req.dialect;
  if (dialect === undefined || response.status >= 300) return { value: response.body };
  try {
    return { value: dialect.answer(response.body, x.route!.pool.name) };
  } catch {
    return undefined;
  }
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
  if (f?.status === 503 && f.retryAfterMs !== undefined) {
    // The upstream said when to come back (its instance is parked until then): so does the
    // gateway, as it will for the next request.
    return new NoUpstreamError(
      `Service ${service} (model "${model}"): every instance is unavailable (${f.message}).`,
      { "retry-after": String(retryAfterSeconds(f.retryAfterMs)) },
    );
  }
  if (f?.kind === "timeout") {
    return new UpstreamTimeoutError(`Service ${service} (model "${model}"): ${f.message}.`);
  }
  if (f?.kind === "ejected") {
    return new NoUpstreamError(
      `Service ${service} (model "${model}"): ${f.message}; no other instance could take the request (${
        unavailable(triedPools(x), x.tried, x.deps.clock()).reason
      }).`,
    );
  }
  if (f) return new UpstreamError(`Service ${service} (model "${model}"): ${f.message}.`);
  if (x.limitedBy) return rateLimitError("instance", x.limitedBy, service, model);
  const { reason, retryAfterMs } = unavailable(triedPools(x), x.tried, x.deps.clock());
  return new NoUpstreamError(
    `Service ${service} has no available instance for model "${model}" (${reason})${chainNote(x)}.`,
    retryAfterMs === undefined ? {} : { "retry-after": String(retryAfterSeconds(retryAfterMs)) },
  );
}

/**
 * The models whose instances were considered: the route's, then the chain's visited so far, and
 * the pool a waiter followed into the live table after a reload.
 */
function triedPools(x: Exchange): ModelPool[] {
  const route = x.route!;
  const pools = [route.pool, ...route.fallbacks.slice(0, x.chainAt)];
  if (x.pool !== undefined && !pools.includes(x.pool)) pools.push(x.pool);
  return pools;
}

/** What the 503 says of the fallback chain, when there is one. */
function chainNote(x: Exchange): string {
  const chain = x.route!.fallbacks;
  if (chain.length === 0) return "";
  const names = chain.map((p) => `"${p.name}"`).join(", ");
  return forbidsSubstitute(x.req)
    ? `; its fallbacks ${names} were not tried: the request forbids substitution (X-DAiRouter-No-Substitute)`
    : `, nor for its fallbacks ${names}`;
}

/**
 * Why the untried instances of `pools` could not take the request, in words an operator can act
 * on, and how long until the first of those that wait out a time — an open breaker's timeout, an
 * upstream's own `Retry-After` (parked) — may take one again (`retryAfterMs`; absent when none
 * waits for a known time): the `Retry-After` of the 503. By instance id: after a reload one
 * instance may be in `pools` twice (old and live table), with the same health and breaker.
 */
function unavailable(
  pools: readonly ModelPool[],
  tried: readonly Upstream[],
  now: number,
): { reason: string; retryAfterMs?: number } {
  let unhealthy = 0, open = 0, backAt = Infinity;
  const seen = new Set(tried.map((u) => u.id));
  for (const pool of pools) {
    for (const u of pool.upstreams) {
      if (seen.has(u.id)) continue;
      seen.add(u.id);
      if (!u.health.healthy) unhealthy++;
      else if (!u.breaker.canPass()) {
        open++;
        const { openUntil, parkedUntil } = u.breaker.snapshot();
        const at = Math.max(openUntil, parkedUntil);
        if (at > now) backAt = Math.min(backAt, at);
      }
    }
  }
  const parts = [];
  if (unhealthy) parts.push(`${unhealthy} unhealthy`);
  if (open) parts.push(`${open} circuit-open or parked`);
  const reason = parts.length ? parts.join(", ") : "no instance could take the request";
  return backAt === Infinity ? { reason } : { reason, retryAfterMs: backAt - now };
}
