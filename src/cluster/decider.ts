/**
 * The cluster's {@linkcode ScopeDecider}: the request-level scopes of a request — api-key,
 * global, service, client IP, in that order — go to the shared backend in one call (Redis: one
 * `EVALSHA`, all-or-nothing). When the model's instances have limits of their own, the request
 * is decided together with the first instance picked, in the same call (`DEFERRED`, then
 * `decideWith`): one round trip per request either way; a retry on another instance with a
 * limit costs one more. The answers are the same values as the in-process decider's
 * (`localLimits` of `src/proxy/access.ts`): a denial naming the first scope that said no, else
 * the tightest allowing decision for the `X-RateLimit-*` headers. While the backend cannot
 * answer, {@linkcode ClusterLimits} falls back to the in-process limiters (built with this
 * replica's share of each limit) or refuses with a 503.
 *
 * The limits sent are the configured ones (the whole cluster's), never the local shares, and the
 * checks that do not depend on the request are built once per runtime, not per request.
 *
 * Token limits (`unit: tokens`): a check of a token-counting scope costs the request's estimated
 * tokens; an admission in which some did is a {@linkcode ClusterGrant}, and `correct` sends the
 * difference to the backend (`adjust`, at the admission's own backend time).
 *
 * @module
 */

import type { LimitCheck, LimitVerdict } from "../limiter/backend.ts";
import { instanceDenial, isDenial, localLimits } from "../proxy/access.ts";
import {
  type Admission,
  type AdmissionWith,
  DEFERRED,
  type GatewayRequest,
  type ScopeDecider,
} from "../proxy/request.ts";
import type { ModelPool, Runtime, ServiceRuntime, Upstream } from "../proxy/runtime.ts";
import type { Decision, RateLimitConfig, ServiceKind } from "../types.ts";
import type { ClusterLimits } from "./limits.ts";

/** A limiter whose key comes with the request (client IP). */
interface KeyedRef {
  readonly name: string;
  readonly config: RateLimitConfig;
}

/** The checks of one runtime, built at its first request. */
interface Plan {
  readonly global?: LimitCheck;
  readonly keys: ReadonlyMap<string, LimitCheck>;
  readonly services: Readonly<Partial<Record<ServiceKind, { service?: LimitCheck; ip?: KeyedRef }>>>;
  /** Pools with an instance that has a limit of its own: decided with their first pick. */
  readonly folded: ReadonlySet<ModelPool>;
}

/** The check of an instance's own limit (`undefined` when it has none). */
export function instanceLimitCheck(u: Upstream): LimitCheck | undefined {
  const rl = u.config.rateLimit;
  return u.limiter && rl
    ? { scope: "instance", name: `instance:${u.id}`, key: "instance", config: rl }
    : undefined;
}

function planOf(rt: Runtime): Plan {
  const cfg = rt.config;
  const keys = new Map<string, LimitCheck>();
  for (const k of cfg.auth.keys) {
    if (rt.keyLimiters.has(k.name) && k.rateLimit) {
      keys.set(k.name, { scope: "api-key", name: `api-key:${k.name}`, key: k.name, config: k.rateLimit });
    }
  }
  const services: Record<string, { service?: LimitCheck; ip?: KeyedRef }> = {};
  const folded = new Set<ModelPool>();
  for (const kind in rt.services) {
    const svc = rt.services[kind as ServiceKind];
    for (const pool of svc.pools.values()) {
      if (pool.upstreams.some((u) => u.limiter !== undefined)) folded.add(pool);
    }
    const rl = svc.config.rateLimit;
    if (!rl) continue;
    services[kind] = {
      service: svc.limiter
        ? { scope: "service", name: `service:${kind}`, key: "service", config: rl }
        : undefined,
      ip: svc.ipLimiter ? { name: `client-ip:${kind}`, config: rl } : undefined,
    };
  }
  const global = rt.globalLimiter && cfg.globalRateLimit
    ? { scope: "global", name: "global", key: "global", config: cfg.globalRateLimit } as const
    : undefined;
  return { global, keys, services, folded };
}

/** `check` as it applies to a request of `tokens` estimated tokens (its cost, for a token limit). */
function costed(check: LimitCheck, tokens: number): LimitCheck {
  return check.config.unit === "tokens" ? { ...check, cost: tokens } : check;
}

/** The request-level checks of `req`, in the order of `localLimits`. */
function checksOf(p: Plan, svc: ServiceRuntime, req: GatewayRequest, tokens: number): LimitCheck[] {
  const s = p.services[svc.kind];
  const key = req.apiKey === undefined ? undefined : p.keys.get(req.apiKey.name);
  const checks: LimitCheck[] = [];
  if (key) checks.push(costed(key, tokens));
  if (p.global) checks.push(costed(p.global, tokens));
  if (s?.service) checks.push(costed(s.service, tokens));
  if (s?.ip) {
    checks.push(
      costed({ scope: "client-ip", name: s.ip.name, key: req.clientIp, config: s.ip.config }, tokens),
    );
  }
  return checks;
}

/** An allowing shared admission in which some checks counted tokens: what `correct` adjusts. */
export class ClusterGrant implements Decision {
  readonly allowed = true;
  readonly retryAfterMs: number;
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
  constructor(d: Decision, readonly checks: readonly LimitCheck[], readonly at: number) {
    this.retryAfterMs = d.retryAfterMs;
    this.limit = d.limit;
    this.remaining = d.remaining;
    this.resetMs = d.resetMs;
  }
}

/** A shared verdict as the request path's value (a {@linkcode ClusterGrant} when tokens were taken). */
function admission(checks: readonly LimitCheck[], v: LimitVerdict): Admission {
  if (v.denied >= 0) {
    return { allowed: false, reason: "rate-limited", scope: checks[v.denied].scope, decision: v.decision! };
  }
  const counted = checks.filter((c) => c.config.unit === "tokens");
  return counted.length === 0 || v.decision === undefined
    ? v.decision
    : new ClusterGrant(v.decision, counted, v.at);
}

/**
 * The instance's answer in a shared verdict: its denial; a {@linkcode ClusterGrant} when its
 * limit took tokens (the instance's correction goes to the backend, not to its in-process
 * limiter, which took nothing); else `undefined`.
 */
function instanceAnswer(extra: readonly LimitCheck[], v: LimitVerdict): Decision | undefined {
  const d = v.extra[0];
  if (d === undefined) return undefined;
  if (!d.allowed) return d;
  return extra[0].config.unit === "tokens" ? new ClusterGrant(d, extra, v.at) : undefined;
}

function isVerdict(v: unknown): v is LimitVerdict {
  return typeof v === "object" && v !== null && "denied" in v;
}

const NOTHING: AdmissionWith = Object.freeze({ admission: undefined, instance: undefined });

/**
 * Creates the cluster decider over `limits`; while the backend cannot answer, the in-process
 * limiters (`localLimits`, `instanceDenial`) decide.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clusterDecider } from "./decider.ts";
 * import { createClusterLimits } from "./limits.ts";
 * import { createMemoryLimits } from "../limiter/backend.ts";
 * const decider = clusterDecider(createClusterLimits({
 *   backend: createMemoryLimits(() => 0), up: () => true, onUnavailable: "deny",
 * }));
 * // A runtime without limits costs no call at all.
 * const rt = { config: { auth: { keys: [] } }, services: {}, keyLimiters: new Map(), upstreams: [] };
 * const svc = { kind: "chat", config: {}, pools: new Map() };
 * assert.equal(decider.decide(rt as never, svc as never, {} as never, 0), undefined);
 * ```
 */
export function clusterDecider(limits: ClusterLimits): ScopeDecider {
  const plans = new WeakMap<Runtime, Plan>();
  const plan = (rt: Runtime): Plan => {
    let p = plans.get(rt);
    if (p === undefined) plans.set(rt, p = planOf(rt));
    return p;
  };
  // Upstream objects belong to one runtime, as their configs do.
  const instanceChecks = new WeakMap<Upstream, readonly LimitCheck[] | null>();
  const instanceCheck = (u: Upstream): readonly LimitCheck[] | null => {
    let c = instanceChecks.get(u);
    if (c === undefined) {
      const check = instanceLimitCheck(u);
      instanceChecks.set(u, c = check ? [check] : null);
    }
    return c;
  };

  const decideNow = (
    rt: Runtime,
    svc: ServiceRuntime,
    req: GatewayRequest,
    tokens: number,
  ): Admission | Promise<Admission> => {
    const checks = checksOf(plan(rt), svc, req, tokens);
    if (checks.length === 0) return undefined;
    const answer = limits.decide(checks, () => localLimits.decide(rt, svc, req, tokens));
    if (!(answer instanceof Promise)) return isVerdict(answer) ? admission(checks, answer) : answer;
    return answer.then((v) => isVerdict(v) ? admission(checks, v) : v);
  };

  return {
    decide(rt, svc, req, tokens) {
      const pool = svc.pools.get(req.model);
      return pool !== undefined && plan(rt).folded.has(pool) ? DEFERRED : decideNow(rt, svc, req, tokens);
    },
    decideWith(rt, svc, req, u, tokens) {
      const check = u === undefined ? null : instanceCheck(u);
      const extra = check === null ? null : check.map((c) => costed(c, tokens));
      if (extra === null) {
        const a = decideNow(rt, svc, req, tokens);
        return a instanceof Promise
          ? a.then((admission) => ({ admission, instance: undefined }))
          : a === undefined
          ? NOTHING
          : { admission: a, instance: undefined };
      }
      const checks = checksOf(plan(rt), svc, req, tokens);
      const local = (): AdmissionWith => {
        const a = localLimits.decide(rt, svc, req, tokens);
        return { admission: a, instance: isDenial(a) ? undefined : instanceDenial(u!, tokens) };
      };
      const answer = limits.decide(checks, local, extra);
      const settle = (v: LimitVerdict | AdmissionWith): AdmissionWith => {
        if (!isVerdict(v)) return v;
        return { admission: admission(checks, v), instance: instanceAnswer(extra, v) };
      };
      return answer instanceof Promise ? answer.then(settle) : settle(answer);
    },
    instance(u, tokens) {
      const check = instanceCheck(u);
      if (check === null) return instanceDenial(u, tokens);
      const extra = check.map((c) => costed(c, tokens));
      const answer = limits.decide(NO_CHECKS, () => instanceDenial(u, tokens), extra);
      const settle = (v: LimitVerdict | ReturnType<typeof instanceDenial>) =>
        isVerdict(v) ? instanceAnswer(extra, v) : v;
      return answer instanceof Promise ? answer.then(settle) : settle(answer);
    },
    correct(admission, deltaTokens) {
      if (!(admission instanceof ClusterGrant)) return localLimits.correct(admission, deltaTokens);
      return limits.adjust(admission.checks.map((c) => ({ ...c, cost: deltaTokens })), admission.at);
    },
  };
}

const NO_CHECKS: readonly LimitCheck[] = Object.freeze([]);
