/**
 * Builds one isolate's gateway with what it shares: the Redis cluster (`state.backend: redis`),
 * or — for a worker of `server.workers` without Redis — its sibling workers through the
 * supervisor; the operator console; the admin API's options. Nothing listens yet.
 *
 * @module
 */

import { clusterConfigApplier } from "../cluster/apply_config.ts";
import { createRedisCluster, type RedisCluster } from "../cluster/redis_cluster.ts";
import { createWorkerCluster, type WorkerCluster } from "../cluster/worker_cluster.ts";
import type { SupervisorLink } from "../cluster/workers.ts";
import type { Config } from "../config/types.ts";
import { createConsole, type OperatorConsole } from "../console/mod.ts";
import { consoleLoad, createGateway, type Gateway, type GatewayCluster } from "../gateway.ts";
import { adminExtension, type AdminMountOptions } from "../http/admin.ts";
import type { ProcessHandles } from "./handles.ts";
import { configRevision } from "./revision.ts";

/** The worker's place, when this isolate is one of `server.workers`. */
export interface WorkerHost {
  readonly link: SupervisorLink;
  readonly index: number;
  readonly count: number;
  readonly port: number;
}

/** What an isolate's gateway is built from. */
export interface ComposeOptions {
  readonly config: Config;
  /** The config file (admin changes are written to it). */
  readonly file: string;
  /** Environment for `${VAR}` placeholders. */
  readonly env: Readonly<Record<string, string>>;
  readonly version: string;
  /** Deno's built-in OpenTelemetry is on. */
  readonly otel: boolean;
  readonly host?: WorkerHost;
  readonly handles: ProcessHandles;
}

/** A gateway and what it shares. */
export interface Composed {
  readonly gateway: Gateway;
  readonly redis?: RedisCluster;
  readonly siblings?: WorkerCluster;
  readonly ui?: OperatorConsole;
  /** Options of the admin API (on the main port, or its own listener). */
  readonly admin: AdminMountOptions;
}

/**
 * Connects to the shared state (`state.backend: redis`), or returns `undefined`. Throws when the
 * link cannot be set up (bad options).
 */
export function openRedisCluster(
  options: ComposeOptions,
  gateway: () => Gateway | undefined,
): RedisCluster | undefined {
  const { config, handles, host } = options;
  const state = config.state;
  if (state.backend !== "redis" || !state.url) return undefined;
  const index = host?.index ?? 0;
  const link = handles.openRedis(state, (level, msg, fields) => gateway()?.logger[level](msg, fields));
  const tag = handles.random().toString(36).slice(2, 6);
  return createRedisCluster({
    link,
    state,
    workers: host?.count ?? 1,
    replica: `${handles.hostname}/${handles.pid}/${index}/${tag}`,
    clock: handles.clock,
    schedule: handles.backgroundTimer,
    applyConfig: clusterConfigApplier({
      file: options.file,
      env: options.env,
      files: handles.files,
      tempFile: `${options.file}.cluster-${handles.pid}-${index}.tmp`,
      gateway,
    }),
  });
}

/** Builds the gateway, sharing state through `redis` when given (see {@linkcode openRedisCluster}). */
export function composeGateway(
  options: ComposeOptions,
  redis: RedisCluster | undefined,
  write: (line: string) => void,
): Composed {
  const { config, handles, host } = options;
  const ref: { gateway?: Gateway } = {};
  // Without Redis, the workers of this host share breakers, health and load through the main thread.
  const siblings = host && !redis
    ? createWorkerCluster({
      link: host.link,
      replica: `worker-${host.index + 1}`,
      clock: handles.clock,
      schedule: handles.backgroundTimer,
      shareIntervalMs: config.state.shareIntervalMs,
    })
    : undefined;
  const hooks: GatewayCluster = {
    ...(redis?.hooks ?? { limitShare: host?.count ?? 1, ...siblings?.hooks }),
    revision: configRevision(() => ref.gateway?.runtime().config, () => redis?.revision ?? 0),
    ...(host ? { renderMetrics: () => host.link.metrics() } : {}),
  };
  // The operator console (read at start): its history is fed by every access record; its header
  // shows the process's memory and the event loop's lag the metrics report.
  const ui = config.console.enabled
    ? createConsole({
      clock: handles.clock,
      version: options.version,
      loadOf: consoleLoad,
      process: () => ({ rssBytes: handles.process.memory().rss, lagMs: ref.gateway?.loopLagMs() ?? 0 }),
    })
    : undefined;
  const admin: AdminMountOptions = {
    file: options.file,
    env: options.env,
    console: ui,
    changed(file: string) {
      if (host) host.link.adminChanged();
      if (redis) void handles.files.readTextFile(file).then((yaml) => redis.publishConfig(yaml));
    },
    reloaded: host ? () => host.link.adminChanged() : undefined,
  };
  const gateway = createGateway(config, {
    process: { ...handles.process, openFiles: handles.openFiles, fileLimit: handles.fileLimit },
    onAccess: ui?.record,
    onAttemptFailed: ui?.attemptFailed,
    cluster: hooks,
    limits: redis?.decider,
    extend: adminExtension(admin),
    clock: handles.clock,
    random: handles.random,
    fetch: handles.fetch,
    connect: handles.connect,
    write,
    otel: options.otel,
  });
  ref.gateway = gateway;
  siblings?.start(gateway);
  return { gateway, redis, siblings, ui, admin };
}
