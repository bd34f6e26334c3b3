/**
 * Runs the gateway in this isolate — the whole process (`server.workers: 1`), or one worker of
 * `server.workers`, which then logs, reloads, drains and reports metrics through the supervisor —
 * from start to exit code:
 *
 * build the gateway (`compose.ts`) → join the Redis cluster → restore the KV state → listen
 * (`listen.ts`) → probe → reload on file change and SIGHUP → drain on SIGTERM/SIGINT
 * (`drain.ts`) → save the state → 0.
 *
 * Every handle to the outside world is injected (`handles.ts`).
 *
 * @module
 */

import type { RedisCluster } from "../cluster/redis_cluster.ts";
import type { LoadResult } from "../config/load.ts";
import { createReloader } from "../config/reload.ts";
import { startOnlyChanges } from "../config/start_only.ts";
import type { ConfigWatch } from "../config/watch.ts";
import type { Gateway } from "../gateway.ts";
import { createLineWriter, type LineWriter, logDropped } from "../observe/line_writer.ts";
import { keepState, type StateKeeper } from "../state/keeper.ts";
import { composeGateway, type ComposeOptions, openRedisCluster } from "./compose.ts";
import { createDrain, type Drain } from "./drain.ts";
import { sleepOn } from "./handles.ts";
import { startListeners } from "./listen.ts";

/** What {@linkcode serveIsolate} runs. */
export interface ServeOptions extends Omit<ComposeOptions, "config"> {
  /** The configuration loaded at start, with its warnings. */
  readonly loaded: LoadResult;
  /** Listen address and port given on the command line (over `server.host` / `server.port`). */
  readonly hostname?: string;
  readonly port?: number;
  /** Loads the config file again for a reload (off the main thread). */
  readonly reload: () => Promise<LoadResult>;
  /**
   * Watches the config's files (the file given and those its last load read); absent with
   * `--no-watch`. Told the outcome of every load, so the set follows imports added or removed.
   */
  readonly watch?: (onChange: () => void) => ConfigWatch;
  /** Told the gateway's address once it listens (the demo sends its traffic there). */
  readonly onListening?: (address: string) => void;
}

/** Credentials refused by Redis: the start fails instead of running without the cluster. */
const REDIS_REFUSED = /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username/i;

/** Logs the warnings of a loaded config. */
function logWarnings(gateway: Gateway, loaded: LoadResult): void {
  for (const w of loaded.warnings) {
    gateway.logger.warn(w.message, { event: "config", path: w.path, line: w.line, file: w.file });
  }
}

/** Starts the cluster link; false when Redis refused the credentials (the start fails). */
async function joinRedis(redis: RedisCluster, gateway: Gateway, options: ServeOptions): Promise<boolean> {
  await redis.start(gateway);
  if (!REDIS_REFUSED.test(redis.lastError ?? "")) return true;
  options.handles.stderr(`dairouter: Redis refused the credentials of state.url: ${redis.lastError}`);
  redis.close();
  return false;
}

/** Optional persistence: breaker states and limiter levels survive a restart (`state.backend: kv`). */
async function restoreKv(gateway: Gateway, options: ServeOptions): Promise<StateKeeper | undefined> {
  const state = options.loaded.config.state;
  if (state.backend !== "kv" || !state.path) return undefined;
  const keeper = keepState({
    store: await options.handles.openKv(state.path),
    targets: () => gateway.persistTargets(),
    intervalMs: state.flushIntervalMs,
    schedule: options.handles.timer,
    onError: (error) => gateway.logger.error("state save failed", { event: "state", error: String(error) }),
  });
  const restored = await keeper.restore();
  gateway.logger.info("state restored", { event: "state", path: state.path, ...restored });
  return keeper;
}

/**
 * Reloads parse off the main thread: the event loop keeps serving on the current table meanwhile.
 * A worker is reloaded by the supervisor, which alone watches the files and takes signals.
 * Returns what stops the watching.
 */
function wireReload(gateway: Gateway, options: ServeOptions): () => void {
  const started = gateway.runtime().config;
  // Made first, so that every load (file change, SIGHUP, admin API) moves the set it watches.
  const watch = options.host ? undefined : options.watch?.(() => void reload("file change"));
  watch?.loaded(options.loaded);
  const reload = createReloader({
    load: options.reload,
    apply: (next) => {
      logWarnings(gateway, next);
      gateway.reload(next.config);
      watch?.loaded(next);
      const waiting = startOnlyChanges(started, next.config);
      if (waiting.length > 0) {
        gateway.logger.warn(
          `${waiting.join(", ")}: read at start only, the new values apply at the next restart`,
          {
            event: "config",
            keys: waiting,
          },
        );
      }
    },
    refuse: (error, why) => {
      watch?.refused(error);
      gateway.logger.error("configuration rejected; keeping the previous one", {
        event: "config",
        trigger: why,
        error: (error as Error).message,
      });
    },
  });
  if (options.host) return () => {};
  options.handles.onSignal("SIGHUP", () => void reload("SIGHUP"));
  return () => watch?.stop();
}

/** Tells the caller (or the supervisor) where the gateway listens. */
function announce(gateway: Gateway, options: ServeOptions): (address: string) => void {
  return (address) => {
    if (options.host) return options.host.link.listening(address);
    gateway.logger.info("listening", {
      event: "start",
      version: options.version,
      address,
      config: options.file,
    });
    options.onListening?.(address);
  };
}

/** What starts the drain: the supervisor's message (a worker, also reloaded by it), or a signal. */
function drainOn(drain: Drain, gateway: Gateway, options: ServeOptions): void {
  const { host, handles } = options;
  if (host) {
    host.link.handle({
      reload: (next) => gateway.reload(next),
      drain: (signal) => void drain.start(signal),
      collect: () => gateway.metrics.snapshot(),
    });
  } else {
    handles.onSignal("SIGINT", () => void drain.start("SIGINT"));
    handles.onSignal("SIGTERM", () => void drain.start("SIGTERM"));
  }
}

/** Runs the gateway in this isolate until it has drained; resolves with the exit code. */
export async function serveIsolate(options: ServeOptions): Promise<number> {
  const { handles, host, loaded } = options;
  const config = loaded.config;
  const ref: { gateway?: Gateway } = {};
  const logOut: LineWriter = createLineWriter({
    sink: host ? (b) => (host.link.write(b), Promise.resolve(b.length)) : handles.stdout,
    maxPendingBytes: config.log.maxPendingBytes,
    onDropped: (n) =>
      ref.gateway
        ? logDropped(ref.gateway.logger, n)
        : handles.stderr(`dairouter: ${n} log lines dropped: stdout did not keep up`),
  });
  let redis: RedisCluster | undefined;
  try {
    redis = openRedisCluster({ ...options, config }, () => ref.gateway);
  } catch (error) {
    handles.stderr(`dairouter: cannot set up the Redis state backend: ${(error as Error).message}`);
    return 1;
  }
  const { gateway, siblings, ui, admin } = composeGateway(
    { ...options, config },
    redis,
    (l) => logOut.write(l),
  );
  ref.gateway = gateway;
  logWarnings(gateway, loaded);
  if (redis && !(await joinRedis(redis, gateway, options))) return (await logOut.flush(), 1);
  const keeper = await restoreKv(gateway, options);
  const listeners = startListeners({
    gateway,
    config,
    hostname: options.hostname ?? config.server.host,
    port: host ? host.port : options.port ?? config.server.port,
    admin,
    handles,
    onListen: announce(gateway, options),
  });
  gateway.startProbes();
  const stopWatch = wireReload(gateway, options);
  const drain = createDrain({
    gateway,
    listeners: listeners.all,
    drainDelayMs: config.server.drainDelayMs,
    shutdownTimeoutMs: config.server.shutdownTimeoutMs,
    sleep: sleepOn(handles.timer),
    onDraining: () => (ui?.close(), stopWatch()),
    release: async () => {
      redis?.close();
      siblings?.close();
      await keeper?.close();
    },
    finish: async () => {
      await logOut.flush();
      host?.link.stopped();
    },
  });
  drainOn(drain, gateway, options);
  await drain.finished;
  return 0;
}
