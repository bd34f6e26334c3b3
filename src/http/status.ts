/**
 * Read-only views of the live routing table: JAiRouter's per-service status documents (the model
 * list is `models.ts`).
 *
 * @module
 */

import { redactUrl } from "../config/redact.ts";
import type { Runtime } from "../proxy/runtime.ts";
import { upstreamOf } from "../proxy/upstream_index.ts";
import type { ServiceKind } from "../types.ts";

/** One service's status: every instance with health, in-flight count and breaker state (no secret). */
export function serviceStatus(rt: Runtime, kind: ServiceKind): unknown {
  const svc = rt.services[kind];
  const instances = rt.config.services[kind].instances.map((inst) => {
    const live = upstreamOf(rt, inst.id);
    return {
      id: inst.id,
      name: inst.name,
      // Anyone may read this page when auth is off: a password in the base URL stays hidden.
      url: redactUrl(`${inst.baseUrl}${inst.path ?? ""}`),
      weight: inst.weight,
      adapter: inst.adapter,
      enabled: inst.enabled,
      healthy: live ? live.health.healthy : false,
      inFlight: live ? live.stats.inFlight : 0,
      breaker: live ? live.breaker.state : "closed",
      latencyEwmaMs: live ? Math.round(live.stats.latencyEwmaMs * 10) / 10 : 0,
      // Engine load signal (queue, KV cache, loaded models, age), when the instance is scraped.
      ...(live?.stats.engine ? { engine: live.stats.engine.status() } : {}),
      // What the other workers and replicas last reported of it (`state.share-interval`).
      ...(live?.stats.peers ? { peers: live.stats.peers } : {}),
    };
  });
  const up = instances.filter((i) => i.enabled && i.healthy && i.breaker !== "open").length;
  return {
    service: kind,
    status: instances.length === 0
      ? "unconfigured"
      : up === 0
      ? "down"
      : up < instances.length
      ? "degraded"
      : "up",
    loadBalance: svc.config.loadBalance.type,
    adapter: svc.config.adapter,
    models: [...svc.pools.keys()],
    instances,
  };
}
