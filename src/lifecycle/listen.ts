/**
 * Opens an isolate's listeners: the gateway's renewable listener (always `SO_REUSEPORT`, which is
 * also how the workers of `server.workers` share one port) and, with `admin.listen`, the admin API
 * on its own renewable listener (read at start only). Logs where each one — and the operator
 * console — listens.
 *
 * @module
 */

import type { Config } from "../config/types.ts";
import type { Gateway } from "../gateway.ts";
import type { AdminMountOptions } from "../http/admin.ts";
import type { RenewableListener } from "../http/listener.ts";
import { serveAdmin, serveGateway } from "../http/serve_gateway.ts";
import type { ProcessHandles } from "./handles.ts";

/** Options of {@linkcode startListeners}. */
export interface ListenOptions {
  readonly gateway: Gateway;
  /** The configuration at start (`server`, `admin`, `console` are read once). */
  readonly config: Config;
  readonly hostname: string;
  readonly port: number;
  readonly admin: AdminMountOptions;
  readonly handles: Pick<ProcessHandles, "serve" | "openFiles" | "fileLimit">;
  /** Told the gateway's address once it listens (the first time only). */
  readonly onListen: (address: string) => void;
}

/** The listeners of an isolate. */
export interface Listeners {
  readonly main: RenewableListener;
  readonly admin?: RenewableListener;
  /** Every listener, for the drain. */
  all(): readonly { shutdown(): Promise<void> }[];
}

/** Starts the gateway's listener, and the admin API's when it has an address of its own. */
export function startListeners(options: ListenOptions): Listeners {
  const { gateway, config, handles } = options;
  // One count of open files for both listeners: past max-connections, both renew.
  const files = { openFiles: handles.openFiles, fileLimit: handles.fileLimit, serve: handles.serve };
  const main = serveGateway(gateway, config.server, {
    hostname: options.hostname,
    port: options.port,
    ...files,
    onListen: (addr) => options.onListen(`http://${addr.hostname}:${addr.port}`),
  });
  const admin = serveAdmin(gateway, options.admin, {
    ...files,
    onListen: (a) =>
      gateway.logger.info("admin listening", { event: "start", address: `http://${a.hostname}:${a.port}` }),
  });
  if (options.admin.console) {
    const a = (admin ?? main).addr;
    const address = `http://${a.hostname}:${a.port}${config.console.path}/`;
    gateway.logger.info("console listening", { event: "start", address });
  }
  return { main, admin, all: () => (admin ? [main, admin] : [main]) };
}
