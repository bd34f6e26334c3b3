/**
 * DAiRouter's composition root: parse arguments → load config → create the handles to the outside
 * world → serve (`src/lifecycle/serve.ts`) or supervise workers (`src/cluster/supervise.ts`). The
 * only module that touches the outside world (clock, randomness, fetch, environment, files,
 * sockets, signals, Workers, KV and Redis connections); what uses those handles lives in src/.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import denoJson from "./deno.json" with { type: "json" };
import { type Cli, helpText, loadOptionsOf, parseArgs } from "./src/cli/args.ts";
import { reportCheck } from "./src/cli/check.ts";
import { runSupervisor } from "./src/cluster/supervise.ts";
import { connectSupervisor } from "./src/cluster/workers.ts";
import { ConfigError, loadConfigFile, type LoadResult } from "./src/config/load.ts";
import { loadOffThread } from "./src/config/reload.ts";
import type { StateConfig } from "./src/config/types.ts";
import { type ConfigWatch, watchConfigFiles } from "./src/config/watch.ts";
import { createOpenFileCounter, openFileLimit } from "./src/http/open_files.ts";
import type { WorkerHost } from "./src/lifecycle/compose.ts";
import type { ProcessHandles, SignalName } from "./src/lifecycle/handles.ts";
import { serveIsolate } from "./src/lifecycle/serve.ts";
import { openKvStore } from "./src/state/mod.ts";
import {
  createRedisLink,
  type RedisClientLike,
  type RedisLink,
  type RedisLinkOptions,
} from "./src/state/redis_link.ts";
import type { Schedule } from "./src/types.ts";

const VERSION: string = denoJson.version;

/** The module each worker of `server.workers` runs: this one (see the end of the file). */
const WORKER_ENTRY = new URL("./main.ts", import.meta.url);

/**
 * Runs the CLI; resolves with the process exit code. `onListening` gets the gateway's address once
 * it listens (the demo sends its traffic there). `workerEntry` is the module the workers of
 * `server.workers` run: this one, or in tests one that wraps {@linkcode runWorker} (to make a
 * worker fail on purpose, without a way to do so in the product).
 */
export async function main(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  onListening?: (address: string) => void,
  workerEntry: URL = WORKER_ENTRY,
): Promise<number> {
  let cli: Cli;
  try {
    cli = parseArgs(args, env);
  } catch (error) {
    console.error(`dairouter: ${(error as Error).message}`);
    return 2;
  }
  if (cli.command === "help") return (console.log(helpText(VERSION)), 0);
  if (cli.command === "version") return (console.log(`dairouter ${VERSION}`), 0);

  let loaded;
  try {
    loaded = await loadConfigFile(cli.config, env, loadOptionsOf(cli));
  } catch (error) {
    console.error(
      error instanceof ConfigError ? error.message : `Cannot load config "${cli.config}": ${String(error)}`,
    );
    return 1;
  }
  if (cli.command === "check") return reportCheck(cli, loaded, { out: console.log, err: console.error });

  const count = workerCount(loaded.config.server.workers);
  if (count > 1) return await supervise(cli, env, loaded, count, workerEntry, onListening);
  return await serve(cli, env, loaded, undefined, onListening);
}

/** `server.workers` as a number: `auto` is the cores this process may use. */
function workerCount(workers: number | "auto"): number {
  return workers === "auto" ? Math.max(1, navigator.hardwareConcurrency || 1) : workers;
}

/** A timer that keeps the process alive (`ref`) or not. */
function timer(ref: boolean): Schedule {
  return (fn, ms) => {
    const t = setTimeout(fn, ms);
    if (!ref) Deno.unrefTimer(t);
    return () => clearTimeout(t);
  };
}

/** `Deno.addSignalListener`; Windows delivers SIGINT only (SIGHUP and SIGTERM cannot be listened to there). */
function onSignal(signal: SignalName, listener: () => void): void {
  if (Deno.build.os !== "windows" || signal === "SIGINT") Deno.addSignalListener(signal, listener);
}

/** node-redis' `createClient`, as loaded by {@linkcode loadRedisClient}. */
type CreateClient = typeof import("redis").createClient;

/**
 * Loads node-redis only when `state.backend: redis` asks for it: imported eagerly, its five
 * packages cost every gateway ~10 MB of heap and start-up time for a backend most never use.
 * The backend is chosen at start (a reload cannot switch it), so this runs once, before serving.
 */
async function loadRedisClient(state: StateConfig): Promise<CreateClient | undefined> {
  return state.backend === "redis" ? (await import("redis")).createClient : undefined;
}

/** Opens the shared state's connection (`state.backend: redis`); the cluster logic is in src/cluster. */
function openRedis(
  createClient: CreateClient | undefined,
  state: StateConfig,
  log: RedisLinkOptions["log"],
): RedisLink {
  if (createClient === undefined) throw new Error("the Redis client was not loaded at start");
  return createRedisLink({
    connect: () =>
      createClient({
        url: state.url,
        disableOfflineQueue: true,
        socket: { reconnectStrategy: false, connectTimeout: Math.max(1000, 20 * state.timeoutMs) },
      }) as unknown as RedisClientLike,
    timeoutMs: state.timeoutMs,
    clock: Date.now,
    random: Math.random,
    schedule: timer(false),
    log,
  });
}

/** The outside world, as handed to src/: clock, randomness, sockets, signals, timers, files, stores. */
function processHandles(createClient: CreateClient | undefined): ProcessHandles {
  const procFs = {
    statSync: Deno.statSync,
    readDirSync: Deno.readDirSync,
    readTextFileSync: Deno.readTextFileSync,
  };
  return {
    clock: Date.now,
    random: Math.random,
    fetch: globalThis.fetch,
    connect: async (a, signal) =>
      (await Deno.connect({ hostname: a.hostname, port: a.port, signal })).close(),
    serve: Deno.serve,
    onSignal,
    timer: timer(true),
    backgroundTimer: timer(false),
    stdout: (b) => Deno.stdout.write(b),
    stderr: (line) => console.error(line),
    files: {
      mtime: async (path) => (await Deno.stat(path).catch(() => undefined))?.mtime?.getTime() ?? 0,
      readTextFile: (path) => Deno.readTextFile(path),
      writeTextFile: (path, text) => Deno.writeTextFile(path, text),
      rename: (from, to) => Deno.rename(from, to),
    },
    openFiles: createOpenFileCounter(procFs),
    fileLimit: openFileLimit(procFs),
    process: {
      memory: () => Deno.memoryUsage(),
      cpuSeconds() {
        const { user, system } = cpuUsage();
        return (user + system) / 1e6;
      },
      startSeconds: performance.timeOrigin / 1000,
    },
    hostname: Deno.hostname(),
    pid: Deno.pid,
    openRedis: (state, log) => openRedis(createClient, state, log),
    openKv: (path) => openKvStore(path, { clock: Date.now }),
  };
}

/** The watcher of the config's files (the file given, its imports and profile files), unless `--no-watch`. */
function watcherOf(cli: Cli): ((onChange: () => void) => ConfigWatch) | undefined {
  return cli.watch ? (onChange) => watchConfigFiles(cli.config, onChange) : undefined;
}

/** Runs the gateway in this isolate: the whole process, or one worker of `server.workers` (`host`). */
async function serve(
  cli: Cli,
  env: Readonly<Record<string, string>>,
  loaded: LoadResult,
  host: WorkerHost | undefined,
  onListening?: (address: string) => void,
): Promise<number> {
  // Reloads parse in a worker: the event loop keeps serving on the current table meanwhile.
  const spawnLoader = () =>
    new Worker(new URL("./src/config/load_worker.ts", import.meta.url), { type: "module" });
  const createClient = await loadRedisClient(loaded.config.state);
  return await serveIsolate({
    loaded,
    file: cli.config,
    env,
    version: VERSION,
    otel: env.OTEL_DENO === "true" || env.OTEL_DENO === "1",
    host,
    handles: processHandles(createClient),
    hostname: cli.host,
    port: cli.port,
    reload: () => loadOffThread(spawnLoader, cli.config, env, loadOptionsOf(cli)),
    watch: watcherOf(cli),
    onListening,
  });
}

/** `server.workers: N`: N workers (this module, in Web Workers) on one port, one supervisor. */
function supervise(
  cli: Cli,
  env: Readonly<Record<string, string>>,
  loaded: LoadResult,
  count: number,
  workerEntry: URL,
  onListening?: (address: string) => void,
): Promise<number> {
  return runSupervisor({
    count,
    loaded,
    load: () => loadConfigFile(cli.config, env, loadOptionsOf(cli)),
    file: cli.config,
    version: VERSION,
    hostname: cli.host,
    port: cli.port,
    reservePort(hostname, port) {
      const listener = Deno.listen({ hostname, port, reusePort: true });
      return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
    },
    spawnWorker(i) {
      const w = new Worker(workerEntry, {
        type: "module",
        name: `dairouter-${i + 1}`,
      });
      w.postMessage({ t: "args", args: cli.args, env });
      return w;
    },
    stdout: (b) => Deno.stdout.write(b),
    clock: Date.now,
    schedule: timer(true),
    onSignal,
    watch: watcherOf(cli),
    onListening,
  });
}

/**
 * A worker of `server.workers`: waits for its arguments and place, then serves — on the config
 * file, or on the config in force when it replaces a worker that failed.
 */
export async function runWorker(): Promise<void> {
  const self = globalThis as unknown as { postMessage(m: unknown): void; onmessage: unknown };
  const argsMessage = await new Promise<{ args: string[]; env: Record<string, string> }>((resolve) => {
    self.onmessage = (e: MessageEvent) => resolve(e.data);
  });
  const link = connectSupervisor(self as never);
  const place = await link.init;
  try {
    const cli = parseArgs(argsMessage.args, argsMessage.env);
    const loaded: LoadResult = place.config
      ? { config: place.config, warnings: [], files: [cli.config] }
      : await loadConfigFile(cli.config, argsMessage.env, loadOptionsOf(cli));
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
