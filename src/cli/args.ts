/**
 * The command line of `dairouter`: `serve` (the default), `check`, `--help`, `--version`, and the
 * options, over the `DAIROUTER_*` environment variables. Pure: `main.ts` passes `Deno.args` and
 * the environment in.
 *
 * @module
 */

import { parseSize } from "../config/units.ts";

/** The text of `--help`. */
export function helpText(version: string): string {
  return `dairouter ${version} — OpenAI-compatible gateway for self-hosted model servers

Usage:
  dairouter [--config FILE] [--host HOST] [--port PORT]   start the gateway
  dairouter check --config FILE [--strict]                validate a config file and exit
  dairouter --version | --help

Options:
  -c, --config FILE   configuration file (env DAIROUTER_CONFIG; default config/dairouter.yaml);
                      a JAiRouter application.yml loads with its spring.config.import files
      --host HOST     listen address, overrides server.host (env DAIROUTER_HOST)
  -p, --port PORT     listen port, overrides server.port (env DAIROUTER_PORT)
      --no-watch      do not reload when the config's files change (SIGHUP still reloads)
      --strict        check: treat every warning (ignored JAiRouter/Spring keys…) as an error
      --max-config-size SIZE
                      cap on the bytes of all config files together (default 1mb)

Exit codes: 0 ok; 1 the configuration has errors (or warnings, with --strict); 2 bad arguments.

Signals: SIGHUP reloads the config; SIGTERM/SIGINT: /readyz turns 503, new requests are still served
for server.drain-delay, then the listener closes and in-flight requests get server.shutdown-timeout;
exit 0.`;
}

/** Parsed command line. */
export interface Cli {
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

/**
 * Parses the arguments; throws a `TypeError` naming the bad one (exit code 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "./args.ts";
 * const cli = parseArgs(["check", "-c", "x.yaml", "--strict"], { DAIROUTER_PORT: "8080" });
 * assert.equal(cli.command, "check");
 * assert.equal(cli.config, "x.yaml");
 * assert.equal(cli.port, 8080);
 * assert.throws(() => parseArgs(["--port", "70000"], {}), TypeError);
 * ```
 */
export function parseArgs(args: readonly string[], env: Readonly<Record<string, string>>): Cli {
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

/** `--max-config-size` as loader options. */
export function loadOptionsOf(cli: Cli): { maxBytes?: number } {
  return cli.maxConfigBytes === undefined ? {} : { maxBytes: cli.maxConfigBytes };
}
