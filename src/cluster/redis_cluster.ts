/**
 * One replica's share of a Redis cluster, composed from the pieces of this folder on a link that
 * `main.ts` opened: cluster-wide limits (with the `on-unavailable` fallback), shared breakers and
 * health, the shared fallback cache, config documents, and the `dairouter_state_backend_up`
 * gauge. Every transition of the link is logged once; each reconnection resynchronises.
 *
 * @module
 */

import type { StateConfig } from "../config/types.ts";
import type { Gateway, GatewayCluster } from "../gateway.ts";
import type { ScopeDecider } from "../proxy/request.ts";
import { createRedisLimits } from "../state/redis_limits.ts";
import type { RedisLink } from "../state/redis_link.ts";
import { createRedisStore } from "../state/redis.ts";
import type { Clock, Schedule } from "../types.ts";
import { createConfigSync } from "./config_sync.ts";
import { createGovernanceSync, gatewayInstances, type GovernanceSync } from "./governance.ts";
import { staleAfterMs, startLoadShare } from "./load_share.ts";
import { redisBus } from "./redis_bus.ts";
import { redisLoadExchange } from "./redis_load.ts";
import { clusterDecider, instanceLimitCheck } from "./decider.ts";
import { createClusterLimits } from "./limits.ts";
import { createRedisFallbackCache } from "./redis_cache.ts";

/** Options of {@linkcode createRedisCluster}. */
export interface RedisClusterOptions {
  readonly link: RedisLink;
  readonly state: StateConfig;
  /** Workers of this process (each is a replica of its own on Redis). */
  readonly workers: number;
  /** Unique id of this replica (logged with the changes it publishes). */
  readonly replica: string;
  readonly clock: Clock;
  /** Timers of the load exchange (`state.share-interval`). */
  readonly schedule: Schedule;
  /** Validates and applies a config document published by another replica (throws when invalid). */
  readonly applyConfig: (yaml: string, rev: number, at: number) => Promise<void>;
}

/** A replica's cluster handles. */
export interface RedisCluster {
  /** What the gateway is created with. */
  readonly hooks: GatewayCluster;
  /** Decides limits cluster-wide (the gateway's `limits`). */
  readonly decider: ScopeDecider;
  /** The cluster revision of the running config (0: this replica's file). */
  readonly revision: number;
  /** Why Redis is unavailable (the link's last error), or `undefined` while it is up. */
  readonly lastError: string | undefined;
  /** Connects the breaker/health sync to the gateway, then makes the first session and resyncs. */
  start(gateway: Gateway): Promise<void>;
  /** Publishes the config file text after an admin change applied here. */
  publishConfig(yaml: string): Promise<void>;
  close(): void;
}

/** Composes a replica's cluster state on `link` (not started). */
export function createRedisCluster(options: RedisClusterOptions): RedisCluster {
  const { link, state, workers, replica, clock } = options;
  const prefix = state.keyPrefix;
  let gateway: Gateway | undefined;
  const log = (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown>) =>
    gateway?.logger[level](msg, fields);

  const backend = createRedisLimits({ link, keyPrefix: prefix });
  const limits = createClusterLimits({ backend, up: () => link.up, onUnavailable: state.onUnavailable });
  const store = createRedisStore(link, prefix, clock);
  const configSync = createConfigSync({
    link,
    keyPrefix: prefix,
    replica,
    clock,
    apply: options.applyConfig,
    log,
  });
  let governance: GovernanceSync | undefined;
  let stopShare = () => {};

  const resync = async () => {
    await governance?.resync();
    await configSync.resync();
  };
  link.onChange((up) => {
    gateway?.metrics.setStateBackendUp(up);
    if (up) void resync();
  });

  const hooks: GatewayCluster = {
    limitShare: workers * state.replicas,
    fallbackCache: (size, ttlMs) => createRedisFallbackCache(link, prefix, "cache", size, ttlMs, clock),
    breakerChanged: (id, to) => governance?.breakerChanged(id, to),
    healthChanged(id, healthy, reason) {
      governance?.healthChanged(id, healthy, reason);
      // A recovered instance restarts its warm-up ramp once for the cluster (here, where it was seen).
      const u = healthy ? gateway?.state.current.get(id) : undefined;
      const check = u?.config.rateLimit?.warmUp ? instanceLimitCheck(u) : undefined;
      if (check && link.up) Promise.resolve(backend.rewarm([check])).catch(() => {});
    },
  };

  return {
    hooks,
    decider: clusterDecider(limits),
    get revision() {
      return configSync.revision;
    },
    get lastError() {
      return link.lastError;
    },
    async start(g) {
      gateway = g;
      g.metrics.setStateBackendUp(false);
      governance = createGovernanceSync({
        bus: redisBus(link, prefix, store),
        replica,
        clock,
        ...gatewayInstances(g),
        log,
      });
      stopShare = startLoadShare({
        intervalMs: state.shareIntervalMs,
        schedule: options.schedule,
        instances: () => g.runtime().upstreams,
        exchange: redisLoadExchange(link, prefix, replica, staleAfterMs(state.shareIntervalMs)),
      });
      await link.start();
      if (!link.up) {
        g.logger.warn("starting without the shared state backend", {
          event: "state",
          backend: "redis",
          onUnavailable: state.onUnavailable,
          error: link.lastError,
        });
      }
    },
    async publishConfig(yaml) {
      try {
        const rev = await configSync.publish(yaml);
        gateway?.logger.info("configuration published to the cluster", { event: "config", revision: rev });
      } catch (error) {
        gateway?.logger.warn(
          "configuration not published: Redis unavailable; other replicas keep theirs until it is back",
          {
            event: "config",
            error: (error as Error).message,
          },
        );
      }
    },
    close() {
      stopShare();
      link.close();
    },
  };
}
