/**
 * The admin API: read the effective configuration (secrets redacted); list, add, update,
 * enable/disable and remove instances; replace a service's `load-balance`, `rate-limit` and
 * `circuit-breaker` blocks. Off unless an `admin` block is written; guarded by its own bearer token
 * (never a client key), compared in constant time.
 *
 * Every change is made to the YAML file (comments kept, previous file kept as `.bak`, atomic
 * rename), validated by the loader before anything is written, and then applied with
 * `gateway.reload` — requests in flight finish on the configuration they started with. An invalid
 * change is a 400 carrying the loader's message, and the file is left untouched. Changes are
 * serialised: two admin calls never interleave their read, write and reload.
 *
 * Routes, below `admin.path-prefix` (default `/admin`):
 *
 * | method | path                                          | does                                   |
 * | ------ | --------------------------------------------- | -------------------------------------- |
 * | GET    | `/config`                                     | effective config, secrets redacted     |
 * | GET    | `/services/{service}/instances`               | instances with index, id, live state   |
 * | POST   | `/services/{service}/instances`               | append an instance (201)               |
 * | GET    | `/services/{service}/instances/{ref}`         | one instance                           |
 * | PUT    | `/services/{service}/instances/{ref}`         | replace an instance                    |
 * | PATCH  | `/services/{service}/instances/{ref}`         | merge patch, e.g. `{"enabled": false}` |
 * | DELETE | `/services/{service}/instances/{ref}`         | remove an instance                     |
 * | PUT    | `/services/{service}/{block}`                 | replace the service's block            |
 * | DELETE | `/services/{service}/{block}`                 | drop it (the global block applies)     |
 * | POST   | `/services/{service}/instances/{ref}/breaker/reset` | close its breaker now (not written) |
 * | POST   | `/reload`                                     | re-read the file, as SIGHUP does       |
 *
 * `{ref}` is the instance's index in the service's `instances` list (0-based, file order) or its
 * URL-encoded `id`; `{block}` is `load-balance`, `rate-limit` or `circuit-breaker`.
 *
 * @module
 */

import { Hono } from "hono";
import { errorResponse, NotFoundError, UnauthorizedError } from "../errors.ts";
import { type AdminGateway, type AdminOptions, adminRoutes } from "./admin_routes.ts";
import type { AppEnv } from "./app.ts";
import { bearerToken, secretMatches } from "../proxy/api_keys.ts";
import { drainUnread } from "./body_guard.ts";
import { consoleMount } from "./console_mount.ts";
import type { OperatorConsole } from "../console/mod.ts";

export type { AdminGateway, AdminOptions } from "./admin_routes.ts";

/** Options of {@linkcode createAdminApp} and {@linkcode adminExtension}. */
export interface AdminMountOptions extends AdminOptions {
  /** The operator console, served on the same listener as the admin API (`console.enabled`). */
  readonly console?: OperatorConsole;
}

/** The console's answer first (when mounted), then the admin API's. */
function withConsole(
  admin: (req: Request, info?: unknown) => Promise<Response | undefined>,
  gateway: AdminGateway,
  options: AdminMountOptions,
  separate: boolean,
): (req: Request, info?: unknown) => Promise<Response | undefined> {
  if (!options.console) return admin;
  const ui = consoleMount(options.console, gateway, separate);
  return async (req, info) => (await ui(req)) ?? (await admin(req, info));
}

/**
 * Answers an admin request when `req` is below the admin prefix: 404 while the API is off (or on
 * another listener), 401 without the right token. `undefined` for every other path.
 */
function handler(gateway: AdminGateway, options: AdminOptions, separate: boolean) {
  const routes = adminRoutes(gateway, options);
  return async (req: Request, info?: unknown): Promise<Response | undefined> => {
    const admin = gateway.runtime().config.admin;
    const prefix = admin.pathPrefix;
    // Cheap test first: this runs in front of every request of the gateway's port.
    if (!req.url.includes(prefix)) return undefined;
    const url = new URL(req.url);
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return undefined;
    // On the main port only when no separate listener is configured.
    if (!admin.enabled || !admin.tokenSha256 || (!separate && admin.listen)) return undefined;
    const token = bearerToken(req.headers);
    if (token === undefined || !secretMatches(token, admin.tokenSha256)) {
      // An operator wants to know someone knocks; the presented token itself is never logged.
      gateway.logger.warn("admin request refused", {
        event: "admin",
        method: req.method,
        path: url.pathname,
        reason: token === undefined ? "no token" : "wrong token",
      });
      return errorResponse(new UnauthorizedError("Invalid or missing admin token."));
    }
    url.pathname = url.pathname.slice(prefix.length) || "/";
    const inner = new Request(url, req);
    try {
      return await routes.fetch(inner, info);
    } finally {
      // A route that answered without reading the body: the rest is drained under the deadlines.
      drainUnread(inner, gateway.bodyGuard());
    }
  };
}

/**
 * The admin API as an app of its own, for `admin.listen` (a separate address, e.g. loopback only).
 * It serves the same routes below the same prefix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAdminApp } from "./admin.ts";
 * import { createGateway } from "../gateway.ts";
 * import { parseConfig } from "../config/load.ts";
 * const yaml = "model: {}\nadmin:\n  token: an-admin-token-of-32-characters!\n";
 * const { config } = parseConfig(yaml, { source: "x.yaml", env: {} });
 * const gateway = createGateway(config, { clock: () => 0, random: () => 0.5, fetch, write: () => {} });
 * const admin = createAdminApp(gateway);
 * const res = await admin.fetch(new Request("http://x/admin/config", {
 *   headers: { authorization: "Bearer an-admin-token-of-32-characters!" },
 * }));
 * assert(res.status === 200 && !JSON.stringify(await res.json()).includes("32-characters"));
 * ```
 */
export function createAdminApp(gateway: AdminGateway, options: AdminMountOptions = {}): Hono {
  const handle = withConsole(handler(gateway, options, true), gateway, options, true);
  const app = new Hono();
  app.all("*", async (c) => {
    const res = await handle(c.req.raw, c.env);
    // Answered without reading the body (401, 404): drained under the body deadlines, not Deno's.
    drainUnread(c.req.raw, gateway.bodyGuard());
    return res ??
      errorResponse(
        new NotFoundError(`Unknown admin URL: ${c.req.method} ${c.req.path}.`, "unknown_url", null),
      );
  });
  return app;
}

/**
 * The `extend` callback of `createGateway` that mounts the admin API on the gateway's own port
 * (unless `admin.listen` moves it to a separate one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adminExtension } from "./admin.ts";
 * import { createGateway } from "../gateway.ts";
 * import { parseConfig } from "../config/load.ts";
 * const { config } = parseConfig("model: {}\n", { source: "x.yaml", env: {} });
 * const gateway = createGateway(config, {
 *   clock: () => 0, random: () => 0.5, fetch, write: () => {}, extend: adminExtension(),
 * });
 * // No admin block: the API is off and its paths are unknown.
 * assert((await gateway.fetch(new Request("http://x/admin/config"))).status === 404);
 * ```
 */
export function adminExtension(
  options: AdminMountOptions = {},
): (app: Hono<AppEnv>, gateway: AdminGateway) => void {
  return (app, gateway) => {
    const handle = withConsole(handler(gateway, options, false), gateway, options, false);
    app.use(async (c, next) => {
      const res = await handle(c.req.raw, c.env);
      if (res) return res;
      await next();
    });
  };
}
