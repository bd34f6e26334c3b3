/**
 * The rules of one request, steps 2–8 of the design: limiters → candidates → exactly one pick →
 * adapter → forward → outcome recorded once → failover (bounded) → fallback. Testable without
 * Hono: it takes a parsed {@linkcode GatewayRequest} and returns a `Response`.
 *
 * @module
 */

import type { HeaderList } from "../header_list.ts";
import {
  type GatewayError,
  NotFoundError,
  NoUpstreamError,
  RateLimitedError,
  ShuttingDownError,
} from "../errors.ts";
import type {
  AccessRecord,
  Clock,
  Decision,
  JsonBody,
  RawBody,
  ServiceKind,
  UpstreamCall,
} from "../types.ts";
import type { DeadlineSweep } from "./deadlines.ts";
import { type AttemptFailure, forward, type Settlement } from "./forward.ts";
import type { ScopeLimits } from "./cluster_scopes.ts";
import { checkLimits, rateLimitHeaders } from "./limits.ts";
import { failureError, recordOutcome, unavailableReason } from "./outcome.ts";
import type { Runtime, ServiceRuntime, Upstream } from "./runtime.ts";
import { withStreamUsage } from "./stream_usage.ts";
import { usageFromTail } from "./usage.ts";

/** Where the dispatcher reports what happened (metrics and logs implement it). */
export interface DispatchObserver {
  access(rec: AccessRecord): void;
  retry(u: Upstream): void;
  fallback(service: ServiceKind, model: string, strategy: string): void;
  rateLimited(scope: string, service: ServiceKind): void;
  upstreamError(u: Upstream, kind: string): void;
}

/** Dependencies injected by the composition root. */
export interface DispatchDeps {
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  /** Watches every attempt's timeouts (one timer for all). */
  readonly deadlines: DeadlineSweep;
  /** Aborts (with a `ShuttingDownError`) when the gateway cuts what is left at its shutdown deadline. */
  readonly shutdown?: AbortSignal;
  readonly observer: DispatchObserver;
  /** Decides the request-level limit scopes (default: this process's limiters, `checkLimits`). */
  readonly limits?: ScopeLimits;
}

/** A request the HTTP layer has parsed and validated. */
export interface GatewayRequest {
  readonly service: ServiceKind;
  readonly route: string;
  readonly method: string;
  readonly model: string;
  readonly stream: boolean;
  readonly body: JsonBody | RawBody;
  readonly clientIp: string;
  readonly requestId: string;
  readonly traceId?: string;
  /** The client's own headers (for `hash-key: header:…`). */
  readonly clientHeaders: Headers;
  /** Headers to forward upstream (already filtered; adapters copy, never mutate, them). */
  readonly forwardHeaders: HeaderList;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
  /** When the request arrived (clock ms). */
  readonly receivedAt: number;
}

const FALLBACK_HEADER = "x-dairouter-fallback";

function hashKey(svc: ServiceRuntime, req: GatewayRequest): string | undefined {
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
 * Serves one request. Throws a `GatewayError` for client-visible errors (the HTTP layer maps it);
 * returns the upstream's response otherwise.
 */
export async function dispatch(rt: Runtime, deps: DispatchDeps, req: GatewayRequest): Promise<Response> {
  const svc = rt.services[req.service];
  const pool = svc.pools.get(req.model);
  const base = {
    requestId: req.requestId,
    traceId: req.traceId,
    clientIp: req.clientIp,
    method: req.method,
    route: req.route,
    service: req.service,
    stream: req.stream,
  };
  let retries = 0;
  const logged = (status: number, extra: Partial<AccessRecord>) =>
    deps.observer.access({
      ...base,
      model: pool ? req.model : "unknown",
      status,
      durationMs: deps.clock() - req.receivedAt,
      retries,
      ...extra,
    });

  try {
    if (!pool) {
      const available = [...svc.pools.keys()];
      throw new NotFoundError(
        `The model "${req.model}" does not exist for service ${req.service}. Available: ${
          available.length ? available.map((m) => `"${m}"`).join(", ") : "none configured"
        }.`,
      );
    }
    let decision = (deps.limits ?? checkLimits)(rt, svc, req, deps.observer);
    if (decision instanceof Promise) decision = await decision;
    const extraHeaders: Record<string, string> = { "x-request-id": req.requestId };
    if (decision) Object.assign(extraHeaders, rateLimitHeaders(decision, false));

    const cfg = svc.config;
    const tried = new Set<Upstream>();
    const eligible = (u: Upstream) => !tried.has(u) && u.health.healthy && u.breaker.canPass();
    const key = hashKey(svc, req);
    let attempts = 0;
    let lastFailure: AttemptFailure | undefined;
    let limitedBy: Decision | undefined;

    for (;;) {
      const u = pool.strategy.pick({ key, eligible });
      if (!u) break;
      tried.add(u);
      if (u.limiter) {
        const d = u.limiter.take("instance");
        if (!d.allowed) {
          deps.observer.rateLimited("instance", req.service);
          if (!limitedBy || d.retryAfterMs < limitedBy.retryAfterMs) limitedBy = d;
          continue;
        }
      }
      if (!u.breaker.tryAcquire()) continue;
      // Streamed chat reports usage only when asked; ask for it (and hide it again) for metrics.
      const usageBody = req.stream && req.body.kind === "json"
        ? withStreamUsage(req.body, u.adapter.name)
        : undefined;
      let call: UpstreamCall;
      try {
        call = u.adapter.prepare({
          service: req.service,
          route: req.route,
          target: u.target,
          body: usageBody ?? req.body,
          stream: req.stream,
          headers: req.forwardHeaders,
        });
      } catch (error) {
        u.breaker.onIgnored();
        throw error;
      }
      if (attempts > 0) {
        retries++;
        deps.observer.retry(u);
      }
      attempts++;
      u.stats.inFlight++;
      // Logged once the attempt is both committed to the client and settled (body ended).
      let settlement: Settlement | undefined;
      let committed = false;
      const logCommitted = () => {
        if (!settlement || !committed) return;
        const s = settlement;
        const usage = usageFromTail(s.tail);
        logged(s.status ?? 502, {
          instance: u.id,
          ttftMs: s.ttfbMs,
          tokensIn: usage.tokensIn,
          tokensOut: usage.tokensOut,
          error: s.kind === "shutdown"
            ? "shutdown"
            : s.outcome === "abort"
            ? "client_abort"
            : s.outcome === "failure"
            ? `upstream_${s.kind}`
            : undefined,
        });
      };
      const result = await forward({
        fetch: deps.fetch,
        clock: deps.clock,
        deadlines: deps.deadlines,
        call,
        timeouts: cfg.timeouts,
        clientSignal: req.signal,
        shutdownSignal: deps.shutdown,
        extraHeaders,
        stripUsage: usageBody !== undefined,
        settle: (s) => {
          recordOutcome(u, s, deps.clock(), deps);
          settlement = s;
          logCommitted();
        },
      });
      if (result.type === "response") {
        committed = true;
        logCommitted();
        const res = result.response;
        if (svc.cache && res.ok && !req.stream) return await remember(svc, req, res);
        return res;
      }
      lastFailure = result;
      if (result.kind === "shutdown") throw new ShuttingDownError();
      if (result.kind === "abort") {
        logged(499, { instance: u.id, error: "client_abort" });
        return new Response(null, { status: 499 });
      }
      const elapsed = deps.clock() - req.receivedAt;
      if (attempts >= cfg.retry.maxAttempts || elapsed >= cfg.retry.budgetMs) break;
    }

    // Nothing answered: fallback, then the most precise error.
    const cached = await svc.cache?.get(svc.cache.key(req.model, req.body.bytes));
    if (cached) {
      deps.observer.fallback(req.service, req.model, "cache");
      logged(cached.status, { fallback: "cache" });
      return new Response(cached.body.slice(), {
        status: cached.status,
        headers: {
          "content-type": cached.contentType,
          [FALLBACK_HEADER]: "cache",
          "x-request-id": req.requestId,
        },
      });
    }
    const fb = cfg.fallback;
    if (fb.enabled && fb.response) {
      deps.observer.fallback(req.service, req.model, "default");
      logged(fb.response.status, { fallback: "default" });
      return Response.json(fb.response.body, {
        status: fb.response.status,
        headers: { [FALLBACK_HEADER]: "default", "x-request-id": req.requestId },
      });
    }
    if (lastFailure) {
      if (lastFailure.status === 429) {
        throw new RateLimitedError(
          `Service ${req.service} (model "${req.model}"): every instance is busy (${lastFailure.message}).`,
          {
            "retry-after": String(Math.max(1, Math.ceil((lastFailure.retryAfterMs ?? 1000) / 1000))),
          },
        );
      }
      throw failureError(lastFailure, req.service, req.model);
    }
    if (limitedBy) {
      throw new RateLimitedError(
        `Service ${req.service} (model "${req.model}"): every instance is at its rate limit.`,
        rateLimitHeaders(limitedBy, true),
      );
    }
    if (fb.enabled) deps.observer.fallback(req.service, req.model, "default");
    throw new NoUpstreamError(
      `Service ${req.service} has no available instance for model "${req.model}" (${
        unavailableReason(pool.upstreams, tried)
      }).`,
    );
  } catch (error) {
    const status = (error as GatewayError).status ?? 500;
    logged(status, { error: (error as GatewayError).code ?? "internal_error" });
    throw error;
  }
}

/** Buffers a small non-streamed answer (embeddings, rerank) into the fallback cache. */
async function remember(svc: ServiceRuntime, req: GatewayRequest, res: Response): Promise<Response> {
  const body = new Uint8Array(await res.arrayBuffer());
  svc.cache!.set(svc.cache!.key(req.model, req.body.bytes), {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "application/json",
    body,
  });
  return new Response(body, { status: res.status, headers: res.headers });
}
