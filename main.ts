/**
 * DAiRouter's composition root: parse arguments → load config → build the gateway → serve →
 * handle signals. The only module that touches the outside world (clock, randomness, fetch,
 * environment, files, sockets, signals).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createClient } from "redis";
import denoJson from "./deno.json" with { type: "json" };
import { createRedisCluster, type RedisCluster } from "./src/cluster/redis_cluster.ts";
import { createWorkerCluster } from "./src/cluster/worker_cluster.ts";
import { connectSupervisor, superviseWorkers, type SupervisorLink } from "./src/cluster/workers.ts";
import { ConfigError, loadConfigFile, type LoadResult, parseConfig } from "./src/config/load.ts";
import { createReloader, loadOffThread } from "./src/config/reload.ts";
import { parseSize } from "./src/config/units.ts";
import type { Config, ServiceConfig } from "./src/config/types.ts";
import { watchConfig } from "./src/config/watch.ts";
import { consoleLoad, createGateway, type Gateway, type GatewayCluster } from "./src/gateway.ts";
import { createLineWriter } from "./src/observe/line_writer.ts";
import { createLogger } from "./src/observe/logger.ts";
import { adminExtension } from "./src/http/admin.ts";
import { createOpenFileCounter, openFileLimit } from "./src/http/open_files.ts";
import { serveAdmin, serveGateway } from "./src/http/serve_gateway.ts";
import { createConsole } from "./src/console/mod.ts";
import { openKvStore, restoreState, saveState, type StateStore } from "./src/state/mod.ts";
import { createRedisLink, type RedisClientLike } from "./src/state/redis_link.ts";

const VERSION: string = denoJson.version;

/** After cutting what outlived the shutdown deadline, how long the cut responses get to end. */
const CUT_GRACE_MS = 1000;

const HELP = `dairouter ${VERSION} — OpenAI-compatible gateway for self-hosted model servers

Usage:
  dairouter [--config FILE] [--host HOST] [--port PORT]   start the gateway
  dairouter check --config FILE [--strict]                validate a config file and exit
  dairouter --version | --help

Options:
  -c, --config FILE   configuration file (env DAIROUTER_CONFIG; default config/dairouter.yaml);
                      a JAiRouter application.yml loads with its spring.config.import files
      --host HOST     listen address, overrides server.host (env DAIROUTER_HOST)
  -p, --port PORT     listen port, overrides server.port (env DAIROUTER_PORT)
      --no-watch      do not reload when the config file changes (SIGHUP still reloads)
      --strict        check: treat every warning (ignored JAiRouter/Spring keys…) as an error
      --max-config-size SIZE
                      cap on the bytes of all config files together (default 1mb)

Exit codes: 0 ok; 1 the configuration has errors (or warnings, with --strict); 2 bad arguments.

Signals: SIGHUP reloads the config; SIGTERM/SIGINT: /readyz turns 503, new requests are still served
for server.drain-delay, then the listener closes and in-flight requests get server.shutdown-timeout;
exit 0.`;

/** Parsed command line. */
interface Cli {
  command: "serve" | "check" | "help" | "version";
  config: string;
  host?: string;
  port?: number;
  watch: boolean;
  strict: boolean;
  maxConfigBytes?: number;
  /** The arguments as given (handed to the workers). */
  args: readonly string[];
}

function parseArgs(args: readonly string[], env: Readonly<Record<string, string>>): Cli {
  const cli: Cli = {
    command: "serve",
    config: env.DAIROUTER_CONFIG ?? "config/dairouter.yaml",
    host: env.DAIROUTER_HOST,
    port: env.DAIROUTER_PORT ? Number(env.DAIROUTER_PORT) : undefined,
    watch: true,
    strict: false,
    args,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new TypeError(`Option ${a} needs a value`);
      return v;
    };
    if (a === "check") cli.command = "check";
    else if (a === "serve") cli.command = "serve";
    else if (a === "-h" || a === "--help" || a === "help") cli.command = "help";
    else if (a === "-v" || a === "--version" || a === "version") cli.command = "version";
    else if (a === "-c" || a === "--config") cli.config = value();
    else if (a.startsWith("--config=")) cli.config = a.slice(9);
    else if (a === "--host") cli.host = value();
    else if (a === "-p" || a === "--port") cli.port = Number(value());
    else if (a === "--no-watch") cli.watch = false;
    else if (a === "--strict") cli.strict = true;
    else if (a === "--max-config-size") {
      const size = parseSize(value());
      if (!size.ok || size.value < 1) {
        throw new TypeError(`--max-config-size ${size.ok ? "must be > 0" : size.error}`);
      }
      cli.maxConfigBytes = Math.floor(size.value);
    } else throw new TypeError(`Unknown argument "${a}" (see --help)`);
  }
  if (cli.port !== undefined && !(Number.isInteger(cli.port) && cli.port >= 0 && cli.port < 65536)) {
    throw new TypeError(`Port must be an integer 0..65535, received ${cli.port}`);
  }
  return cli;
}

/** `check`: prints warnings (errors under `--strict`) and a summary; returns the exit code. */
function reportCheck(cli: Cli, loaded: LoadResult): number {
  const level = cli.strict ? "error" : "warning";
  for (const w of loaded.warnings) console.error(`${level}: ${w.message}`);
  const n = Object.values(loaded.config.services).reduce(
    (sum, s) => sum + (s as ServiceConfig).instances.length,
    0,
  );
  const from = loaded.files.length > 1 ? ` (${loaded.files.length} files)` : "";
  if (cli.strict && loaded.warnings.length > 0) {
    console.error(
      `Config "${cli.config}"${from} is refused: ${loaded.warnings.length} warnings are errors under --strict.`,
    );
    return 1;
  }
  console.log(`Config "${cli.config}"${from} is valid: ${n} instances, ${loaded.warnings.length} warnings.`);
  return 0;
}

/**
 * Runs the CLI; resolves with the process exit code. `onListening` gets the gateway's address once
 * it listens (the demo sends its traffic there).
 */
export async function main(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  onListening?: (address: string) => void,
): Promise<number> {
  let cli: Cli;
  try {
    cli = parseArgs(args, env);
  } catch (error) {
    console.error(`dairouter: ${(error as Error).message}`);
    return 2;
  }
  if (cli.command === "help") return (console.log(HELP), 0);
  if (cli.command === "version") return (console.log(`dairouter ${VERSION}`), 0);

  const load = () => loadConfigFile(cli.config, env, loadOptionsOf(cli));
  let loaded;
  try {
    loaded = await load();
  } catch (error) {
    console.error(
      error instanceof ConfigError ? error.message : `Cannot load config "${cli.config}": ${String(error)}`,
    );
    return 1;
  }
  if (cli.command === "check") return reportCheck(cli, loaded);

  const count = workerCount(loaded.config.server.workers);
  if (count > 1) return await supervise(cli, env, load, count, onListening);
  return await serve(cli, env, loaded, undefined, onListening);
}

type Loaded = LoadResult;

/** `--max-config-size` as loader options. */
function loadOptionsOf(cli: Cli): { maxBytes?: number } {
  return cli.maxConfigBytes === undefined ? {} : { maxBytes: cli.maxConfigBytes };
}

/** `server.workers` as a number: `auto` is the cores this process may use. */
function workerCount(workers: number | "auto"): number {
  return workers === "auto" ? Math.max(1, navigator.hardwareConcurrency || 1) : workers;
}

/** The worker's place, when this isolate is one of `server.workers`. */
interface WorkerHost {
  readonly link: SupervisorLink;
  readonly index: number;
  readonly count: number;
  readonly port: number;
}

/** A timer that does not keep the process alive (Redis reconnection backoff). */
function unrefSchedule(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  Deno.unrefTimer(t);
  return () => clearTimeout(t);
}

/** Connects to the shared state (`state.backend: redis`), or returns undefined. */
function openCluster(
  cli: Cli,
  env: Readonly<Record<string, string>>,
  config: Config,
  workers: number,
  index: number,
  gatewayRef: () => Gateway | undefined,
): RedisCluster | undefined {
  const state = config.state;
  if (state.backend !== "redis" || !state.url) return undefined;
  const url = state.url;
  const link = createRedisLink({
    connect: () =>
      createClient({
        url,
        disableOfflineQueue: true,
        socket: { reconnectStrategy: false, connectTimeout: Math.max(1000, 20 * state.timeoutMs) },
      }) as unknown as RedisClientLike,
    timeoutMs: state.timeoutMs,
    clock: Date.now,
    random: Math.random,
    schedule: unrefSchedule,
    log: (level, msg, fields) => gatewayRef()?.logger[level](msg, fields),
  });
  const replica = `${Deno.hostname()}/${Deno.pid}/${index}/${Math.random().toString(36).slice(2, 6)}`;
  return createRedisCluster({
    link,
    state,
    workers,
    replica,
    clock: Date.now,
    schedule: unrefSchedule,
    async applyConfig(yaml, rev, at) {
      const gateway = gatewayRef();
      if (!gateway) return;
      const mtime = (await Deno.stat(cli.config).catch(() => undefined))?.mtime?.getTime() ?? 0;
      if (at > 0 && mtime > at) {
        gateway.logger.info("config file is newer than the cluster's; keeping the file", {
          event: "config",
          revision: rev,
        });
        return;
      }
      const { config: next } = parseConfig(yaml, { source: cli.config, env });
      gateway.reload(next);
      gateway.logger.info("cluster configuration applied", { event: "config", revision: rev });
      // Kept in the file too, so that a restart runs the same configuration (atomic rename).
      const temp = `${cli.config}.cluster-${Deno.pid}-${index}.tmp`;
      await Deno.writeTextFile(temp, yaml).then(() => Deno.rename(temp, cli.config)).catch((error) =>
        gateway.logger.warn("cluster configuration not written to the file", {
          event: "config",
          error: String(error),
        })
      );
    },
  });
}

/** Short digest of a config (not of where it was read from), for the revision `/readyz` reports. */
function configHash(config: Config): string {
  const { source: _, ...content } = config;
  return createHash("sha256").update(JSON.stringify(content)).digest("hex").slice(0, 12);
}

/**
 * Runs the gateway in this isolate: the whole process (`workers: 1`), or one of the workers
 * (`host`), which then logs, reloads, drains and reports metrics through the supervisor.
 */
async function serve(
  cli: Cli,
  env: Readonly<Record<string, string>>,
  loaded: Loaded,
  host: WorkerHost | undefined,
  onListening?: (address: string) => void,
): Promise<number> {
  const logOut = createLineWriter({
    sink: host ? (b) => (host.link.write(b), Promise.resolve(b.length)) : (b) => Deno.stdout.write(b),
  });
  const workers = host?.count ?? 1;
  const ref: { gateway?: Gateway } = {};
  let cluster: RedisCluster | undefined;
  try {
    cluster = openCluster(cli, env, loaded.config, workers, host?.index ?? 0, () => ref.gateway);
  } catch (error) {
    console.error(`dairouter: cannot set up the Redis state backend: ${(error as Error).message}`);
    return 1;
  }
  // Without Redis, the workers of this host share breakers, health and load through the main thread.
  const siblings = host && !cluster
    ? createWorkerCluster({
      link: host.link,
      replica: `worker-${host.index + 1}`,
      clock: Date.now,
      schedule: unrefSchedule,
      shareIntervalMs: loaded.config.state.shareIntervalMs,
    })
    : undefined;
  let hashed: { config: Config; hash: string } | undefined;
  const hooks: GatewayCluster = {
    ...(cluster?.hooks ?? { limitShare: workers, ...siblings?.hooks }),
    revision() {
      const config = ref.gateway?.runtime().config;
      if (!config) return "";
      if (hashed?.config !== config) hashed = { config, hash: configHash(config) };
      return `${cluster?.revision ?? 0}-${hashed.hash}`;
    },
    ...(host ? { renderMetrics: () => host.link.metrics() } : {}),
  };
  // The operator console (read at start): its history is fed by every access record.
  const ui = loaded.config.console.enabled
    ? createConsole({ clock: Date.now, version: VERSION, loadOf: consoleLoad })
    : undefined;
  const adminOptions = {
    file: cli.config,
    env,
    console: ui,
    changed(file: string) {
      if (host) host.link.adminChanged();
      if (cluster) void Deno.readTextFile(file).then((yaml) => cluster!.publishConfig(yaml));
    },
  };
  const gateway = createGateway(loaded.config, {
    onAccess: ui?.record,
    onAttemptFailed: ui?.attemptFailed,
    cluster: hooks,
    limits: cluster?.decider,
    extend: adminExtension(adminOptions),
    clock: Date.now,
    random: Math.random,
    fetch: globalThis.fetch,
    connect: async (a, signal) =>
      (await Deno.connect({ hostname: a.hostname, port: a.port, signal })).close(),
    write: (line) => logOut.write(line),
    otel: env.OTEL_DENO === "true" || env.OTEL_DENO === "1",
  });
  ref.gateway = gateway;
  siblings?.start(gateway);
  for (const w of loaded.warnings) {
    gateway.logger.warn(w.message, { event: "config", path: w.path, line: w.line, file: w.file });
  }
  if (cluster) {
    await cluster.start(gateway);
    const refused = /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username/i;
    if (refused.test(cluster.lastError ?? "")) {
      console.error(`dairouter: Redis refused the credentials of state.url: ${cluster.lastError}`);
      cluster.close();
      await logOut.flush();
      return 1;
    }
  }

  // Optional persistence: breaker states and limiter levels survive a restart.
  let store: StateStore | undefined;
  const stateCfg = loaded.config.state;
  if (stateCfg.backend === "kv" && stateCfg.path) {
    store = await openKvStore(stateCfg.path, { clock: Date.now });
    const restored = await restoreState(store, gateway.persistTargets());
    gateway.logger.info("state restored", { event: "state", path: stateCfg.path, ...restored });
  }
  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    if (!store) return saving;
    const s = store;
    saving = saving.then(() => saveState(s, gateway.persistTargets())).catch((error) =>
      gateway.logger.error("state save failed", { event: "state", error: String(error) })
    );
    return saving;
  };
  const flushTimer = store ? setInterval(save, stateCfg.flushIntervalMs) : undefined;

  const server = loaded.config.server;
  const procFs = {
    statSync: Deno.statSync,
    readDirSync: Deno.readDirSync,
    readTextFileSync: Deno.readTextFileSync,
  };
  // One count of open files for both listeners: past max-connections, both renew.
  const files = { openFiles: createOpenFileCounter(procFs), fileLimit: openFileLimit(procFs) };
  // The listener always binds with SO_REUSEPORT (to renew itself), which is also how workers share it.
  const httpServer = serveGateway(gateway, server, {
    hostname: cli.host ?? server.host,
    port: host ? host.port : cli.port ?? server.port,
    ...files,
    onListen: (addr) => {
      const address = `http://${addr.hostname}:${addr.port}`;
      if (host) return host.link.listening(address);
      gateway.logger.info("listening", { event: "start", version: VERSION, address, config: cli.config });
      onListening?.(address);
    },
  });
  gateway.startProbes();
  // The admin API on its own address (read at start only); otherwise it shares the main port.
  const adminServer = serveAdmin(gateway, adminOptions, {
    ...files,
    onListen: (a) =>
      gateway.logger.info("admin listening", { event: "start", address: `http://${a.hostname}:${a.port}` }),
  });
  if (ui) {
    const a = (adminServer ?? httpServer).addr;
    const address = `http://${a.hostname}:${a.port}${loaded.config.console.path}/`;
    gateway.logger.info("console listening", { event: "start", address });
  }

  // Reloads parse in a worker: the event loop keeps serving on the current table meanwhile.
  const spawnLoader = () =>
    new Worker(new URL("./src/config/load_worker.ts", import.meta.url), { type: "module" });
  const reload = createReloader({
    load: () => loadOffThread(spawnLoader, cli.config, env, loadOptionsOf(cli)),
    apply: (next) => {
      for (const w of next.warnings) {
        gateway.logger.warn(w.message, { event: "config", path: w.path, line: w.line, file: w.file });
      }
      gateway.reload(next.config);
    },
    refuse: (error, why) =>
      gateway.logger.error("configuration rejected; keeping the previous one", {
        event: "config",
        trigger: why,
        error: (error as Error).message,
      }),
  });
  // A worker is reloaded by the supervisor, which alone watches the file and takes signals.
  const stopWatch = cli.watch && !host ? watchConfig(cli.config, () => void reload("file change")) : () => {};
  if (Deno.build.os !== "windows" && !host) Deno.addSignalListener("SIGHUP", () => void reload("SIGHUP"));

  const stopped = Promise.withResolvers<number>();
  let stopping = false;
  const sleep = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(() => r(value), ms));
  // SIGTERM: /readyz answers 503 at once while the listener keeps accepting and serving for
  // `drain-delay` (load balancers and Kubernetes see "not ready" and move traffic away); then the
  // listener closes, in-flight requests get `shutdown-timeout` to finish, and whatever still runs
  // is cut (streams end with an SSE error event). State is saved; the exit code is 0.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.drain();
    ui?.close();
    gateway.logger.info("draining", {
      event: "stop",
      signal,
      drainDelayMs: server.drainDelayMs,
      deadlineMs: server.shutdownTimeoutMs,
    });
    stopWatch();
    await sleep(server.drainDelayMs, undefined);
    gateway.logger.info("listener closed; waiting for in-flight requests", {
      event: "stop",
      inFlight: gateway.inFlight(),
    });
    const closed = Promise.all([httpServer.shutdown(), adminServer?.shutdown()]).then(() => "done" as const);
    let result: "done" | "cut" | "timeout" = await Promise.race([
      closed,
      sleep(server.shutdownTimeoutMs, "timeout" as const),
    ]);
    if (result === "timeout") {
      const cut = gateway.cut();
      gateway.logger.warn("shutdown deadline reached; cutting in-flight requests", {
        event: "stop",
        inFlight: cut,
      });
      // The cut requests end within a few event-loop turns; never wait on a client that stopped reading.
      result = await Promise.race([
        closed.then(() => "cut" as const),
        sleep(CUT_GRACE_MS, "timeout" as const),
      ]);
    }
    await gateway.close();
    cluster?.close();
    siblings?.close();
    clearInterval(flushTimer);
    await save();
    store?.close();
    gateway.logger.info("stopped", { event: "stop", result, inFlight: gateway.inFlight() });
    await logOut.flush();
    host?.link.stopped();
    stopped.resolve(0);
  };
  if (host) {
    host.link.handle({
      reload(config) {
        gateway.reload(config);
      },
      drain: (signal) => void shutdown(signal),
      collect: () => gateway.metrics.snapshot(),
    });
  } else {
    Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
  }
  return await stopped.promise;
}

/**
 * `server.workers: N`: starts N workers on one port (this module, in Web Workers) and keeps the
 * host one gateway: one log stream, one reload, one drain (see `src/cluster/workers.ts`).
 */
async function supervise(
  cli: Cli,
  env: Readonly<Record<string, string>>,
  load: () => Promise<Loaded>,
  count: number,
  onListening?: (address: string) => void,
): Promise<number> {
  const first = await load();
  const server = first.config.server;
  // Written in order: the workers' chunks and the supervisor's own lines share stdout.
  let out: Promise<unknown> = Promise.resolve();
  const write = (chunk: Uint8Array) => {
    out = out.then(async () => {
      for (let o = 0; o < chunk.length;) o += await Deno.stdout.write(chunk.subarray(o));
    });
  };
  const lines = createLineWriter({ sink: (b) => (write(b.slice()), Promise.resolve(b.length)) });
  const logger = createLogger({
    level: first.config.log.level,
    format: first.config.log.format,
    write: (line) => lines.write(line),
    clock: Date.now,
    secrets: () => [],
  });
  // Holds the port (port 0 becomes a real one) until every worker has bound it with SO_REUSEPORT.
  const reserve = Deno.listen({
    hostname: cli.host ?? server.host,
    port: cli.port ?? server.port,
    reusePort: true,
  });
  const port = (reserve.addr as Deno.NetAddr).port;
  let reloading: Promise<void> = Promise.resolve();
  const reload = (why: string) => {
    reloading = reloading.then(async () => {
      try {
        const next = await load();
        for (const w of next.warnings) {
          logger.warn(w.message, { event: "config", path: w.path, line: w.line });
        }
        supervisor.reload(next.config);
        logger.info("configuration handed to every worker", {
          event: "config",
          trigger: why,
          workers: count,
        });
      } catch (error) {
        logger.error("configuration rejected; keeping the previous one", {
          event: "config",
          trigger: why,
          error: (error as Error).message,
        });
      }
    });
  };
  const supervisor = superviseWorkers({
    count,
    port,
    clock: Date.now,
    spawn: (i) => {
      const w = new Worker(new URL("./main.ts", import.meta.url), {
        type: "module",
        name: `dairouter-${i + 1}`,
      });
      w.postMessage({ t: "args", args: cli.args, env });
      return w;
    },
    write,
    adminChanged: () => reload("admin change"),
  });
  try {
    const address = await supervisor.listening;
    reserve.close();
    logger.info("listening", {
      event: "start",
      version: VERSION,
      address,
      config: cli.config,
      workers: count,
    });
    onListening?.(address);
  } catch (error) {
    reserve.close();
    logger.error("a worker failed to start", { event: "start", error: (error as Error).message });
    supervisor.terminate();
    await lines.flush();
    await out;
    return 1;
  }
  const stopWatch = cli.watch ? watchConfig(cli.config, () => reload("file change")) : () => {};
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGHUP", () => reload("SIGHUP"));
  const done = Promise.withResolvers<number>();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    stopWatch();
    logger.info("draining every worker", { event: "stop", signal, workers: count });
    await supervisor.drain(signal);
    logger.info("stopped", { event: "stop", workers: count });
    await lines.flush();
    await out;
    done.resolve(0);
  };
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  return await done.promise;
}

/** A worker of `server.workers`: waits for its arguments and place, then serves. */
async function runWorker(): Promise<void> {
  const self = globalThis as unknown as { postMessage(m: unknown): void; onmessage: unknown };
  const argsMessage = await new Promise<{ args: string[]; env: Record<string, string> }>((resolve) => {
    self.onmessage = (e: MessageEvent) => resolve(e.data);
  });
  const link = connectSupervisor(self as never);
  const place = await link.init;
  try {
    const cli = parseArgs(argsMessage.args, argsMessage.env);
    const loaded = await loadConfigFile(cli.config, argsMessage.env, loadOptionsOf(cli));
    const code = await serve(cli, argsMessage.env, loaded, { link, ...place });
    if (code !== 0) link.failed(`exit code ${code}`);
  } catch (error) {
    link.failed((error as Error).message);
  }
}

if (import.meta.main) {
  // The same module is the entry of each worker of `server.workers` (embedded by --include).
  if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
    await runWorker();
  } else {
    Deno.exit(await main(Deno.args, Deno.env.toObject()));
  }
}
