/**
 * The cluster's {@linkcode ScopeDecider}: the request-level scopes of a request — api-key,
 * global, service, client IP, in that order — go to the shared backend in one call (Redis: one
 * `EVALSHA`, all-or-nothing), and an instance's own limit in a second call only when the picked
 * instance has one. The answers are the same values as the in-process decider's (`localLimits`
 * of `src/proxy/access.ts`): a denial naming the first scope that said no, else the tightest
 * allowing decision for the `X-RateLimit-*` headers. While the backend cannot answer,
 * {@linkcode ClusterLimits} falls back to the in-process limiters (built with this replica's
 * share of each limit) or refuses with a 503.
 *
 * The limits sent are the configured ones (the whole cluster's), never the local shares, and the
 * checks that do not depend on the request are built once per runtime, not per request.
 *
 * @module
 */

import type { LimitCheck, LimitVerdict } from "../limiter/backend.ts";
import { instanceDenial, localLimits } from "../proxy/access.ts";
import type { Admission, GatewayRequest, ScopeDecider } from "../proxy/request.ts";
import type { Runtime, ServiceRuntime, Upstream } from "../proxy/runtime.ts";
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
  for (const kind in rt.services) {
    const svc = rt.services[kind as ServiceKind];
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
  return { global, keys, services };
}

/** The check of an instance's own limit (`undefined` when it has none). */
export function instanceLimitCheck(u: Upstream): LimitCheck | undefined {
  const rl = u.config.rateLimit;
  return u.limiter && rl
    ? { scope: "instance", name: `instance:${u.id}`, key: "instance", config: rl }
    : undefined;
}

/** The tighter of two allowing decisions (less of the limit left). */
function tighter(a: Decision | undefined, b: Decision): Decision {
  return !a || b.remaining / b.limit < a.remaining / a.limit ? b : a;
}

/** A shared verdict as the request path's value. */
function admission(checks: readonly LimitCheck[], v: LimitVerdict): Admission {
  if (v.denied >= 0) {
    return {
      allowed: false,
      reason: "rate-limited",
      scope: checks[v.denied].scope,
      decision: v.decisions[v.denied],
    };
  }
  let tightest: Decision | undefined;
  for (const d of v.decisions) tightest = tighter(tightest, d);
  return tightest;
}

function isVerdict(v: object | undefined): v is LimitVerdict {
  return v !== undefined && "denied" in v;
}

/**
 * Creates the cluster decider over `limits`; `local` answers while the backend cannot (the
 * in-process limiters, by default).
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
 * const svc = { kind: "chat", config: {} };
 * assert.equal(decider.decide(rt as never, svc as never, {} as never), undefined);
 * ```
 */
export function clusterDecider(limits: ClusterLimits, local: ScopeDecider = localLimits): ScopeDecider {
  const plans = new WeakMap<Runtime, Plan>();
  const plan = (rt: Runtime): Plan => {
    let p = plans.get(rt);
    if (p === undefined) plans.set(rt, p = planOf(rt));
    return p;
  };
  // Upstream objects belong to one runtime, as their configs do.
  const instanceChecks = new WeakMap<Upstream, LimitCheck | null>();
  const instanceCheck = (u: Upstream): LimitCheck | null => {
    let c = instanceChecks.get(u);
    if (c === undefined) instanceChecks.set(u, c = instanceLimitCheck(u) ?? null);
    return c;
  };
  return {
    decide(rt: Runtime, svc: ServiceRuntime, req: GatewayRequest) {
      const p = plan(rt);
      const s = p.services[svc.kind];
      const key = req.apiKey === undefined ? undefined : p.keys.get(req.apiKey.name);
      const checks: LimitCheck[] = [];
      if (key) checks.push(key);
      if (p.global) checks.push(p.global);
      if (s?.service) checks.push(s.service);
      if (s?.ip) checks.push({ scope: "client-ip", name: s.ip.name, key: req.clientIp, config: s.ip.config });
      if (checks.length === 0) return undefined;
      const answer = limits.decide(checks, () => local.decide(rt, svc, req));
      if (!(answer instanceof Promise)) return answer;
      return answer.then((v) => isVerdict(v) ? admission(checks, v) : v);
    },
    instance(u: Upstream) {
      const check = instanceCheck(u);
      if (check === null) return instanceDenial(u);
      const answer = limits.decide([check], () => instanceDenial(u));
      if (!(answer instanceof Promise)) return answer;
      return answer.then((v) => isVerdict(v) ? (v.denied >= 0 ? v.decisions[0] : undefined) : v);
    },
  };
}
