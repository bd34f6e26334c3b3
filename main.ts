/**
 * DAiRouter's composition root: parse arguments → load config → build the gateway → serve →
 * handle signals. The only module that touches the outside world (clock, randomness, fetch,
 * environment, files, sockets, signals).
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { ConfigError, loadConfigFile } from "./src/config/load.ts";
import type { ServiceConfig } from "./src/config/types.ts";
import { watchConfig } from "./src/config/watch.ts";
import { createGateway } from "./src/gateway.ts";
import { createLineWriter } from "./src/observe/line_writer.ts";
import { adminExtension, createAdminApp } from "./src/http/admin.ts";
import { openKvStore, restoreState, saveState, type StateStore } from "./src/state/mod.ts";

const VERSION: string = denoJson.version;

/** After cutting what outlived the shutdown deadline, how long the cut responses get to end. */
const CUT_GRACE_MS = 1000;

const HELP = `dairouter ${VERSION} — OpenAI-compatible gateway for self-hosted model servers

Usage:
  dairouter [--config FILE] [--host HOST] [--port PORT]   start the gateway
  dairouter check --config FILE                           validate a config file and exit
  dairouter --version | --help

Options:
  -c, --config FILE   configuration file (env DAIROUTER_CONFIG; default config/dairouter.yaml)
      --host HOST     listen address, overrides server.host (env DAIROUTER_HOST)
  -p, --port PORT     listen port, overrides server.port (env DAIROUTER_PORT)
      --no-watch      do not reload when the config file changes (SIGHUP still reloads)

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
}

function parseArgs(args: readonly string[], env: Readonly<Record<string, string>>): Cli {
  const cli: Cli = {
    command: "serve",
    config: env.DAIROUTER_CONFIG ?? "config/dairouter.yaml",
    host: env.DAIROUTER_HOST,
    port: env.DAIROUTER_PORT ? Number(env.DAIROUTER_PORT) : undefined,
    watch: true,
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
    else throw new TypeError(`Unknown argument "${a}" (see --help)`);
  }
  if (cli.port !== undefined && !(Number.isInteger(cli.port) && cli.port >= 0 && cli.port < 65536)) {
    throw new TypeError(`Port must be an integer 0..65535, received ${cli.port}`);
  }
  return cli;
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(args: readonly string[], env: Readonly<Record<string, string>>): Promise<number> {
  let cli: Cli;
  try {
    cli = parseArgs(args, env);
  } catch (error) {
    console.error(`dairouter: ${(error as Error).message}`);
    return 2;
  }
  if (cli.command === "help") return (console.log(HELP), 0);
  if (cli.command === "version") return (console.log(`dairouter ${VERSION}`), 0);

  const load = async () => {
    const { config, warnings } = await loadConfigFile(cli.config, env);
    return { config, warnings };
  };
  let loaded;
  try {
    loaded = await load();
  } catch (error) {
    console.error(
      error instanceof ConfigError ? error.message : `Cannot load config "${cli.config}": ${String(error)}`,
    );
    return 1;
  }
  if (cli.command === "check") {
    for (const w of loaded.warnings) console.error(`warning: ${w.message}`);
    const n = Object.values(loaded.config.services).reduce(
      (sum, s) => sum + (s as ServiceConfig).instances.length,
      0,
    );
    console.log(`Config "${cli.config}" is valid: ${n} instances, ${loaded.warnings.length} warnings.`);
    return 0;
  }

  const logOut = createLineWriter({ sink: (b) => Deno.stdout.write(b) });
  const adminOptions = { file: cli.config, env };
  const gateway = createGateway(loaded.config, {
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
    gateway.logger.warn(w.message, { event: "config", path: w.path, line: w.line });
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
  const httpServer = Deno.serve({
    hostname: cli.host ?? server.host,
    port: cli.port ?? server.port,
    onListen: (addr) =>
      gateway.logger.info("listening", {
        event: "start",
        version: VERSION,
        address: `http://${addr.hostname}:${addr.port}`,
        config: cli.config,
      }),
  }, gateway.fetch);
  gateway.startProbes();
  // The admin API on its own address (read at start only); otherwise it shares the main port.
  const adm = loaded.config.admin;
  const adminServer = adm.enabled && adm.listen
    ? Deno.serve({
      hostname: adm.listen.host,
      port: adm.listen.port,
      onListen: (a) =>
        gateway.logger.info("admin listening", { event: "start", address: `http://${a.hostname}:${a.port}` }),
    }, createAdminApp(gateway, adminOptions).fetch)
    : undefined;

  const reload = async (why: string) => {
    try {
      const next = await load();
      for (const w of next.warnings) {
        gateway.logger.warn(w.message, { event: "config", path: w.path, line: w.line });
      }
      gateway.reload(next.config);
    } catch (error) {
      gateway.logger.error("configuration rejected; keeping the previous one", {
        event: "config",
        trigger: why,
        error: (error as Error).message,
      });
    }
  };
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
