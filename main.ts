/**
 * DAiRouter's composition root: parse arguments → load config → build the gateway → serve →
 * handle signals. The only module that touches the outside world (clock, randomness, fetch,
 * environment, files, sockets, signals).
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { ConfigError, loadConfigFile, type LoadResult } from "./src/config/load.ts";
import { createReloader, loadOffThread } from "./src/config/reload.ts";
import { parseSize } from "./src/config/units.ts";
import type { ServiceConfig } from "./src/config/types.ts";
import { watchConfig } from "./src/config/watch.ts";
import { createGateway } from "./src/gateway.ts";
import { createLineWriter } from "./src/observe/line_writer.ts";
import { adminExtension } from "./src/http/admin.ts";
import { createOpenFileCounter, openFileLimit } from "./src/http/open_files.ts";
import { serveAdmin, serveGateway } from "./src/http/serve_gateway.ts";
import { createConsole } from "./src/console/mod.ts";
import { openKvStore, restoreState, saveState, type StateStore } from "./src/state/mod.ts";

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
}

function parseArgs(args: readonly string[], env: Readonly<Record<string, string>>): Cli {
  const cli: Cli = {
    command: "serve",
    config: env.DAIROUTER_CONFIG ?? "config/dairouter.yaml",
    host: env.DAIROUTER_HOST,
    port: env.DAIROUTER_PORT ? Number(env.DAIROUTER_PORT) : undefined,
    watch: true,
    strict: false,
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

  const loadOptions = cli.maxConfigBytes === undefined ? {} : { maxBytes: cli.maxConfigBytes };
  let loaded;
  try {
    loaded = await loadConfigFile(cli.config, env, loadOptions);
  } catch (error) {
    console.error(
      error instanceof ConfigError ? error.message : `Cannot load config "${cli.config}": ${String(error)}`,
    );
    return 1;
  }
  if (cli.command === "check") return reportCheck(cli, loaded);

  const logOut = createLineWriter({ sink: (b) => Deno.stdout.write(b) });
  // The operator console (read at start): its history is fed by every access record.
  const ui = loaded.config.console.enabled ? createConsole({ clock: Date.now, version: VERSION }) : undefined;
  const adminOptions = { file: cli.config, env, console: ui };
  const gateway = createGateway(loaded.config, {
    onAccess: ui?.record,
    onAttemptFailed: ui?.attemptFailed,
    extend: adminExtension(adminOptions),
    clock: Date.now,
    random: Math.random,
    fetch: globalThis.fetch,
    connect: async (a, signal) =>
      (await Deno.connect({ hostname: a.hostname, port: a.port, signal })).close(),
    write: (line) => logOut.write(line),
    otel: env.OTEL_DENO === "true" || env.OTEL_DENO === "1",
  });
  for (const w of loaded.warnings) {
    gateway.logger.warn(w.message, { event: "config", path: w.path, line: w.line, file: w.file });
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
  const httpServer = serveGateway(gateway, server, {
    hostname: cli.host ?? server.host,
    port: cli.port ?? server.port,
    ...files,
    onListen: (addr) => {
      const address = `http://${addr.hostname}:${addr.port}`;
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
    load: () => loadOffThread(spawnLoader, cli.config, env, loadOptions),
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
  const stopWatch = cli.watch ? watchConfig(cli.config, () => void reload("file change")) : () => {};
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGHUP", () => void reload("SIGHUP"));

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
    clearInterval(flushTimer);
    await save();
    store?.close();
    gateway.logger.info("stopped", { event: "stop", result, inFlight: gateway.inFlight() });
    await logOut.flush();
    stopped.resolve(0);
  };
  Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
  return await stopped.promise;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args, Deno.env.toObject()));
}
