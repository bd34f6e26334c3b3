/**
 * The main thread of `server.workers: N`: holds the port until every worker has bound it, starts
 * the workers (`worker_supervisor.ts` relays their logs, metrics, admin changes and governance messages),
 * reloads them all at once on a file change, SIGHUP or an admin change made on any worker, and
 * drains them all on SIGTERM/SIGINT, within a deadline. It writes the one log stream of the host,
 * and replaces a worker that fails once all have started (`worker_supervisor.ts`).
 *
 * The outside world is injected: `spawnWorker` (a `new Worker(...)` of `main.ts`), the port
 * reservation, stdout, the clock and timers, signals and the config file's loader and watcher.
 *
 * @module
 */

import type { LoadResult } from "../config/load.ts";
import type { ConfigWatch } from "../config/watch.ts";
import type { SignalName } from "../lifecycle/handles.ts";
import { createChunkOutput, createLineWriter, logDropped } from "../observe/line_writer.ts";
import { createLogger, type Logger } from "../observe/logger.ts";
import type { Clock, Schedule } from "../types.ts";
import { superviseWorkers, type Supervisor } from "./worker_supervisor.ts";
import type { WorkerHandle } from "./workers.ts";

/** A port held open (with `SO_REUSEPORT`) until the workers have bound it. */
export interface ReservedPort {
  readonly port: number;
  close(): void;
}

/** Options of {@linkcode runSupervisor}. */
export interface RunSupervisorOptions {
  /** Workers to start (>= 2). */
  readonly count: number;
  /** The configuration at start. */
  readonly loaded: LoadResult;
  /** Loads the config file again (a reload). */
  readonly load: () => Promise<LoadResult>;
  /** The config file (logged). */
  readonly file: string;
  readonly version: string;
  /** Listen address and port given on the command line (over `server.host` / `server.port`). */
  readonly hostname?: string;
  readonly port?: number;
  /** Binds `hostname:port` with `SO_REUSEPORT` (port 0 becomes a real one). */
  readonly reservePort: (hostname: string, port: number) => ReservedPort;
  /** Starts worker `index` on this module's entry, with the process's arguments. */
  readonly spawnWorker: (index: number) => WorkerHandle;
  /** Writes to stdout; resolves with the bytes written. */
  readonly stdout: (bytes: Uint8Array) => Promise<number>;
  readonly clock: Clock;
  /** Restarts of failed workers, and the deadlines of scrapes and of the drain. */
  readonly schedule: Schedule;
  /** `Deno.addSignalListener`, for the signals this platform delivers. */
  readonly onSignal: (signal: SignalName, listener: () => void) => void;
  /**
   * Watches the config's files (the file given and those its last load read); absent with
   * `--no-watch`. Told the outcome of every load, as in a single isolate (`serve.ts`).
   */
  readonly watch?: (onChange: () => void) => ConfigWatch;
  /** Told the address once every worker listens. */
  readonly onListening?: (address: string) => void;
}

/** Reloads one after another: the config is loaded and validated once, then handed to every worker. */
function serialReload(
  options: RunSupervisorOptions,
  logger: Logger,
  apply: (result: LoadResult) => void,
  refused: (error: unknown) => void,
): (why: string) => void {
  let reloading: Promise<void> = Promise.resolve();
  return (why) => {
    reloading = reloading.then(async () => {
      try {
        const next = await options.load();
        for (const w of next.warnings) {
          logger.warn(w.message, { event: "config", path: w.path, line: w.line });
        }
        apply(next);
        logger.info("configuration handed to every worker", {
          event: "config",
          trigger: why,
          workers: options.count,
        });
      } catch (error) {
        refused(error);
        logger.error("configuration rejected; keeping the previous one", {
          event: "config",
          trigger: why,
          error: (error as Error).message,
        });
      }
    });
  };
}

/** Waits until every worker listens, then releases the port: the address, or undefined (all stopped). */
async function started(
  supervisor: Supervisor,
  reserve: ReservedPort,
  logger: Logger,
  options: RunSupervisorOptions,
): Promise<string | undefined> {
  try {
    const address = await supervisor.listening;
    reserve.close();
    logger.info("listening", {
      event: "start",
      version: options.version,
      address,
      config: options.file,
      workers: options.count,
    });
    return address;
  } catch (error) {
    reserve.close();
    logger.error("a worker failed to start", { event: "start", error: (error as Error).message });
    supervisor.terminate();
    return undefined;
  }
}

/** Runs the workers until they have drained; resolves with the exit code. */
export async function runSupervisor(options: RunSupervisorOptions): Promise<number> {
  const { count, loaded } = options;
  const server = loaded.config.server;
  // The workers' chunks and the supervisor's own lines, in order and bounded.
  const out = createChunkOutput({
    sink: options.stdout,
    maxPendingBytes: loaded.config.log.maxPendingBytes,
    onDropped: (n) => logDropped(logger, n),
  });
  const lines = createLineWriter({ output: out });
  const logger = createLogger({
    level: loaded.config.log.level,
    format: loaded.config.log.format,
    write: (line) => lines.write(line),
    clock: options.clock,
    secrets: () => [],
  });
  // Until nothing is left, the report of dropped lines included (`flush` waits for `out`).
  const flush = () => lines.flush();
  // Holds the port (port 0 becomes a real one) until every worker has bound it with SO_REUSEPORT.
  const reserve = options.reservePort(options.hostname ?? server.host, options.port ?? server.port);
  // The files of the config in force; the watcher, once started, follows every load's outcome.
  let inForce = loaded;
  const watching: { watch?: ConfigWatch } = {};
  const reload = serialReload(options, logger, (next) => {
    supervisor.reload(next.config);
    inForce = next;
    watching.watch?.loaded(next);
  }, (error) => watching.watch?.refused(error));
  const done = Promise.withResolvers<number>();
  let stopping = false;
  /** Drains every worker, then ends with `code`. */
  const stop = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    watching.watch?.stop();
    logger.info("draining every worker", { event: "stop", signal, workers: count });
    await supervisor.drain(signal);
    logger.info("stopped", { event: "stop", workers: count });
    await flush();
    done.resolve(code);
  };
  const supervisor = superviseWorkers({
    count,
    port: reserve.port,
    config: loaded.config,
    clock: options.clock,
    schedule: options.schedule,
    logger,
    spawn: options.spawnWorker,
    write: out.write,
    adminChanged: () => reload("admin change"),
    // A worker that cannot be ended: drain the others, then exit 1 for the service manager.
    stalled: () => void stop("worker stalled", 1),
  });
  const address = await started(supervisor, reserve, logger, options);
  if (address === undefined) return (await flush(), 1);
  options.onListening?.(address);
  watching.watch = options.watch?.(() => reload("file change"));
  watching.watch?.loaded(inForce);
  options.onSignal("SIGHUP", () => reload("SIGHUP"));
  options.onSignal("SIGINT", () => void stop("SIGINT"));
  options.onSignal("SIGTERM", () => void stop("SIGTERM"));
  return await done.promise;
}
