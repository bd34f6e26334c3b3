/**
 * Serves a gateway on a renewable listener configured from `server.*`, logging and counting each
 * renewal. What `src/lifecycle/listen.ts` and the end-to-end tests both use, so the tests serve
 * the way the binary does.
 *
 * @module
 */

import type { ServerConfig } from "../config/types.ts";
import type { Gateway } from "../gateway.ts";
import { type AdminMountOptions, createAdminApp } from "./admin.ts";
import { type RenewableListener, type ServeFn, serveRenewable } from "./listener.ts";
import { automaticMaxConnections } from "./open_files.ts";

/** Where to listen and what of the outside world the listener may read. */
export interface ServeGatewayOptions {
  readonly hostname: string;
  readonly port: number;
  /** The process's open files (from `open_files.ts`); without it `max-connections` is off. */
  readonly openFiles?: () => number | undefined;
  /** The open-file limit, for the automatic `max-connections`. */
  readonly fileLimit?: number;
  readonly onListen?: (addr: Deno.NetAddr) => void;
  /** How often the connection count is read, ms. @default {1000} */
  readonly checkIntervalMs?: number;
  readonly serve?: ServeFn;
  /** What it serves. @default {gateway.fetch} */
  readonly handler?: Deno.ServeHandler<Deno.NetAddr>;
  /** Named in its log lines. @default {"listener"} */
  readonly name?: string;
}

/**
 * Serves `gateway.fetch`. `server.header-timeout` and `server.max-connections` are read here, at
 * start (a reload does not change them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config/load.ts";
 * import { createGateway } from "../gateway.ts";
 * import { serveGateway } from "./serve_gateway.ts";
 * const { config } = parseConfig("model:\n  services: {}\n", { source: "x.yaml", env: {} });
 * const gateway = createGateway(config, {
 *   clock: Date.now, random: Math.random, fetch, write: () => {},
 * });
 * const listener = serveGateway(gateway, config.server, { hostname: "127.0.0.1", port: 0 });
 * const res = await fetch(`http://127.0.0.1:${listener.addr.port}/healthz`);
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * await gateway.close();
 * await listener.shutdown();
 * ```
 */
export function serveGateway(
  gateway: Gateway,
  server: ServerConfig,
  options: ServeGatewayOptions,
): RenewableListener {
  const maxConnections = server.maxConnections > 0
    ? server.maxConnections
    : options.openFiles
    ? automaticMaxConnections(options.fileLimit)
    : 0;
  if (server.maxConnections > 0 && !options.openFiles) {
    gateway.logger.warn("server.max-connections is not enforced: the open-file count cannot be read here", {
      event: "listener",
      hint: "Linux /proc/self, which Deno opens only with --allow-all; the EMFILE renewal still applies",
    });
  }
  return serveRenewable({
    hostname: options.hostname,
    port: options.port,
    handler: options.handler ?? gateway.fetch,
    headerTimeoutMs: server.headerTimeoutMs,
    receiving: () => gateway.bodyGuard().pending.reads,
    maxConnections,
    openFiles: options.openFiles,
    checkIntervalMs: options.checkIntervalMs,
    onListen: options.onListen,
    serve: options.serve,
    onRenew(reason, detail) {
      gateway.metrics.recordListenerRenewal(reason);
      // The periodic renewal is routine; the others mean slow clients or an exhausted process.
      const log = reason === "header-timeout" ? gateway.logger.debug : gateway.logger.warn;
      log.call(
        gateway.logger,
        `${options.name ?? "listener"} renewed: idle and half-sent connections closed`,
        {
          event: "listener",
          reason,
          ...(detail ? { detail } : {}),
        },
      );
    },
    onError(error) {
      gateway.logger.error(`${options.name ?? "listener"} error`, {
        event: "listener",
        error: String(error),
      });
    },
  });
}

/**
 * Serves the admin API (and the console, when on) on `admin.listen`, read at start; `undefined`
 * when the admin API is off or shares the main port. Like the main port it is a renewable listener
 * (stuck connections closed at `server.header-timeout`), and it reads bodies under the server's
 * body deadlines, bounded to 1 MB (`admin_routes.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config/load.ts";
 * import { createGateway } from "../gateway.ts";
 * import { serveAdmin } from "./serve_gateway.ts";
 * const yaml = "model: {}\nadmin: { token: an-admin-token-of-32-characters!, listen: '127.0.0.1:0' }\n";
 * const { config } = parseConfig(yaml, { source: "x.yaml", env: {} });
 * const gateway = createGateway(config, { clock: Date.now, random: Math.random, fetch, write: () => {} });
 * const admin = serveAdmin(gateway, {})!;
 * const res = await fetch(`http://127.0.0.1:${admin.addr.port}/admin/config`);
 * assert.equal(res.status, 401);
 * await res.body?.cancel();
 * await gateway.close();
 * await admin.shutdown();
 * ```
 */
export function serveAdmin(
  gateway: Gateway,
  admin: AdminMountOptions,
  options: Omit<ServeGatewayOptions, "hostname" | "port" | "handler" | "name"> = {},
): RenewableListener | undefined {
  const config = gateway.runtime().config;
  const listen = config.admin.enabled ? config.admin.listen : undefined;
  if (!listen) return undefined;
  return serveGateway(gateway, config.server, {
    ...options,
    hostname: listen.host,
    port: listen.port,
    handler: createAdminApp(gateway, admin).fetch,
    name: "admin listener",
  });
}
