/**
 * Every access and limit decision of the request path, in order: the client's API key (before
 * its body is read), the key's services and model list, the model itself, then the request-level
 * limiters — api-key, global, service, client IP — and, per attempt, the instance's own limiter. Each
 * answer is a value (a {@linkcode Denial} or a `Decision`); {@linkcode denialError} is the one
 * place a denial becomes an HTTP error, and {@linkcode retryAfterSeconds} the one place a wait
 * becomes the seconds of both the `Retry-After` header and the message.
 *
 * @module
 */

import type { AuthConfig } from "../config/types.ts";
import {
  ForbiddenError,
  type GatewayError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
} from "../errors.ts";
import type { HeaderList } from "../header_list.ts";
import { tighter } from "../limiter/backend.ts";
import type { KeyedLimiter } from "../limiter/mod.ts";
import type { ApiKeyConfig } from "../config/types.ts";
import type { Decision, LimitScope, ServiceKind } from "../types.ts";
import { findApiKey, modelAllowed, serviceAllowed } from "./api_keys.ts";
import type { Admission, DEFERRED, Denial, GatewayRequest, ScopeDecider } from "./request.ts";
import type { ModelRoute, Runtime, ServiceRuntime, Upstream } from "./runtime_types.ts";

/** A wait that can never end (a cost above capacity) is announced as this many seconds. */
const ENDLESS_WAIT_S = 60;

const UNAUTHENTICATED: Denial = Object.freeze({ allowed: false, reason: "unauthenticated" });
const MODEL_FORBIDDEN: Denial = Object.freeze({ allowed: false, reason: "model-forbidden" });
const SERVICE_FORBIDDEN: Denial = Object.freeze({ allowed: false, reason: "service-forbidden" });

/**
 * Whole seconds to wait before retrying: at least 1, rounded up; an endless wait (`Infinity`,
 * say a cost above a capacity below 1) reads as 60 s. `undefined` (nothing said) is 1 s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retryAfterSeconds } from "./access.ts";
 * assert.equal(retryAfterSeconds(1), 1);
 * assert.equal(retryAfterSeconds(2001), 3);
 * assert.equal(retryAfterSeconds(Infinity), 60);
 * ```
 */
export function retryAfterSeconds(ms: number | undefined): number {
  if (ms === undefined) return 1;
  if (!Number.isFinite(ms)) return ENDLESS_WAIT_S;
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * RFC 9110 `Retry-After` (when `denied`) plus the de-facto `X-RateLimit-*` headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateLimitHeaders } from "./access.ts";
 * const h = rateLimitHeaders({ allowed: false, retryAfterMs: Infinity, limit: 0.5, remaining: 0, resetMs: 2000 }, true);
 * assert.equal(h["retry-after"], "60");
 * assert.equal(h["x-ratelimit-reset"], "2");
 * ```
 */
export function rateLimitHeaders(d: Decision, denied: boolean): Record<string, string> {
  const h: Record<string, string> = {
    "x-ratelimit-limit": String(d.limit),
    "x-ratelimit-remaining": remainingValue(d),
    "x-ratelimit-reset": resetValue(d),
  };
  if (denied) h["retry-after"] = String(retryAfterSeconds(d.retryAfterMs));
  return h;
}

/** {@linkcode rateLimitHeaders} of an admitted request, set on `headers` (no record in between). */
export function setRateLimitHeaders(headers: HeaderList, d: Decision): void {
  headers.set("x-ratelimit-limit", String(d.limit));
  headers.set("x-ratelimit-remaining", remainingValue(d));
  headers.set("x-ratelimit-reset", resetValue(d));
}

const remainingValue = (d: Decision): string => String(Math.max(0, Math.floor(d.remaining)));
const resetValue = (d: Decision): string => String(Math.ceil(d.resetMs / 1000));

/** Who a limit of `scope` belongs to, in a sentence: "this API key", "service chat"… */
function limitedParty(scope: LimitScope, service: ServiceKind, model: string): string {
  switch (scope) {
    case "global":
      return "the gateway";
    case "service":
      return `service ${service}`;
    case "client-ip":
      return `client-ip of service ${service}`;
    case "api-key":
      return "this API key";
    case "instance":
      return `every instance of model "${model}" on service ${service}`;
  }
}

/**
 * The 429 of a limiter of `scope` that denied with `d`: the message and `Retry-After` say the
 * same number of seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateLimitError } from "./access.ts";
 * const d = { allowed: false, retryAfterMs: 1500, limit: 2, remaining: 0, resetMs: 2000 };
 * const err = rateLimitError("service", d, "chat", "m");
 * assert.equal(err.message, "Rate limit exceeded for service chat; retry after 2 s.");
 * assert.equal(err.headers["retry-after"], "2");
 * ```
 */
export function rateLimitError(
  scope: LimitScope,
  d: Decision,
  service: ServiceKind,
  model: string,
): GatewayError {
  return new RateLimitedError(
    `Rate limit exceeded for ${limitedParty(scope, service, model)}; ` +
      `retry after ${retryAfterSeconds(d.retryAfterMs)} s.`,
    rateLimitHeaders(d, true),
  );
}

/** Whether `a` is a denial (rather than a key, an allowing decision, nothing or `DEFERRED`). */
export function isDenial(a: object | symbol | undefined): a is Denial {
  return typeof a === "object" && "reason" in a;
}

/** What a denial's message names: the request's service and model (none before routing). */
export type Subject = Pick<GatewayRequest, "service" | "model">;

const NO_SUBJECT: Subject = Object.freeze({ service: "chat", model: "" });

/**
 * The HTTP error of a denial — 401, 403, 404 or 429 — in OpenAI's error shape: the one place
 * where access decisions become answers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denialError } from "./access.ts";
 * const err = denialError({ allowed: false, reason: "unknown-model", available: ["a"] }, { service: "chat", model: "b" });
 * assert.equal(err.status, 404);
 * assert.equal(err.message, 'The model "b" does not exist for service chat. Available: "a".');
 * ```
 */
export function denialError(d: Denial, subject: Subject = NO_SUBJECT): GatewayError {
  const { service, model } = subject;
  switch (d.reason) {
    case "unauthenticated":
      return new UnauthorizedError();
    case "model-forbidden":
      return new ForbiddenError(`This API key is not allowed to use the model "${model}".`);
    case "service-forbidden":
      return new ForbiddenError(`This API key is not allowed to use the ${service} service.`);
    case "unknown-model":
      return new NotFoundError(
        `The model "${model}" does not exist for service ${service}. Available: ${
          d.available.length ? d.available.map((m) => `"${m}"`).join(", ") : "none configured"
        }.`,
      );
    case "rate-limited":
      return rateLimitError(d.scope, d.decision, service, model);
  }
}

/**
 * The client's key, checked before its body is read (no unauthenticated upload is buffered):
 * `undefined` when `auth` is off, a denial when no configured key matches (or it expired by `now`).
 */
export function authenticate(
  auth: AuthConfig,
  headers: Headers,
  now: number,
): ApiKeyConfig | Denial | undefined {
  if (!auth.enabled) return undefined;
  return findApiKey(headers, auth, now) ?? UNAUTHENTICATED;
}

/**
 * Everything a parsed request must pass before an instance is picked: its key's services, its
 * key's model list (the name asked for, or the model an alias of it stands for), the model itself
 * (after the key, so a key limited to some models learns nothing of the others), then every
 * request-level limit scope through `limits`.
 */
export function admit(
  rt: Runtime,
  svc: ServiceRuntime,
  req: GatewayRequest,
  route: ModelRoute | undefined,
  limits: ScopeDecider,
  tokens: number,
): Admission | typeof DEFERRED | Promise<Admission> {
  const key = req.apiKey;
  if (key !== undefined && !serviceAllowed(key, req.service)) return SERVICE_FORBIDDEN;
  if (key !== undefined && !modelAllowed(key, req.model) && !(route && modelAllowed(key, route.pool.name))) {
    return MODEL_FORBIDDEN;
  }
  if (route === undefined) {
    return { allowed: false, reason: "unknown-model", available: [...svc.pools.keys()] };
  }
  return limits.decide(rt, svc, req, tokens);
}

/** Takes from one limiter when configured: the denial, or the tighter of two allowing decisions. */
function take(
  scope: LimitScope,
  limiter: KeyedLimiter | undefined,
  key: string,
  tightest: Decision | undefined,
): Admission {
  if (limiter === undefined) return tightest;
  const d = limiter.take(key);
  if (!d.allowed) return { allowed: false, reason: "rate-limited", scope, decision: d };
  return tighter(tightest, d);
}

/**
 * The in-process {@linkcode ScopeDecider}: the runtime's own limiters, one after the other
 * (plain calls, no per-request list: this runs for every request). A service where some scope
 * counts tokens takes the slower path of {@linkcode decideTokens}.
 */
export const localLimits = {
  decide(rt: Runtime, svc: ServiceRuntime, req: GatewayRequest, tokens: number): Admission {
    if (svc.countsTokens) return decideTokens(rt, svc, req, tokens);
    const key = req.apiKey;
    let a = key ? take("api-key", rt.keyLimiters.get(key.name), key.name, undefined) : undefined;
    if (!isDenial(a)) a = take("global", rt.globalLimiter, "global", a);
    if (!isDenial(a)) a = take("service", svc.limiter, "service", a);
    if (!isDenial(a)) a = take("client-ip", svc.ipLimiter, req.clientIp, a);
    return a;
  },
  correct(admission: Decision, deltaTokens: number): void {
    if (!(admission instanceof TokenGrant)) return;
    for (const c of admission.charges) c.limiter.adjust(c.key, deltaTokens);
  },
} satisfies ScopeDecider;

/** Cost of a request to `limiter`: its estimated tokens when the limiter counts tokens, else 1. */
export function costFor(limiter: KeyedLimiter, tokens: number): number {
  return limiter.config.unit === "tokens" ? tokens : 1;
}

/** One limiter key that took a request's estimated tokens. */
interface Charge {
  readonly limiter: KeyedLimiter;
  readonly key: string;
}

/** An allowing admission in which some scope counted tokens: what `correct` adjusts. */
class TokenGrant implements Decision {
  readonly allowed = true;
  readonly retryAfterMs: number;
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
  constructor(d: Decision, readonly charges: readonly Charge[]) {
    this.retryAfterMs = d.retryAfterMs;
    this.limit = d.limit;
    this.remaining = d.remaining;
    this.resetMs = d.resetMs;
  }
}

/**
 * {@linkcode localLimits} where some scope counts tokens: each scope takes its cost
 * ({@linkcode costFor}); a denial gives back the tokens earlier scopes took; an admission that
 * took tokens remembers where, for the correction.
 */
function decideTokens(rt: Runtime, svc: ServiceRuntime, req: GatewayRequest, tokens: number): Admission {
  const key = req.apiKey;
  const scopes: [LimitScope, KeyedLimiter | undefined, string][] = [
    ["api-key", key ? rt.keyLimiters.get(key.name) : undefined, key?.name ?? ""],
    ["global", rt.globalLimiter, "global"],
    ["service", svc.limiter, "service"],
    ["client-ip", svc.ipLimiter, req.clientIp],
  ];
  const charges: Charge[] = [];
  let tightest: Decision | undefined;
  for (const [scope, limiter, k] of scopes) {
    if (limiter === undefined) continue;
    const d = limiter.take(k, costFor(limiter, tokens));
    if (!d.allowed) {
      for (const c of charges) c.limiter.adjust(c.key, -tokens);
      return { allowed: false, reason: "rate-limited", scope, decision: d };
    }
    if (limiter.config.unit === "tokens") charges.push({ limiter, key: k });
    tightest = tighter(tightest, d);
  }
  return charges.length > 0 ? new TokenGrant(tightest!, charges) : tightest;
}

/**
 * The instance's own limiter, asked once per attempt with the request's estimated `tokens`:
 * `undefined` when it lets the attempt through (or has none), else its denying decision.
 */
export function instanceDenial(u: Upstream, tokens: number): Decision | undefined {
  if (u.limiter === undefined) return undefined;
  const d = u.limiter.take("instance", costFor(u.limiter, tokens));
  return d.allowed ? undefined : d;
}

/**
 * Corrects what an attempt's instance limiter took in tokens (`delta`: actual − estimated, or
 * −estimated as a refund); nothing when the limiter counts requests.
 */
export function correctInstance(u: Upstream, delta: number): void {
  if (delta !== 0 && u.limiter?.config.unit === "tokens") u.limiter.adjust("instance", delta);
}
