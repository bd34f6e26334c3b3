/**
 * Mounts the operator console (`src/console/`) on a listener: the admin listener when
 * `admin.listen` is configured, otherwise the main port. The console decides everything else; this
 * file only tells it whether a request carries the admin token (compared in constant time, as for
 * the admin API) and where the admin API lives on the same listener.
 *
 * @module
 */

import type { OperatorConsole, TokenCheck } from "../console/mod.ts";
import type { AdminGateway } from "./admin_routes.ts";
import { bearerToken, secretMatches } from "../proxy/api_keys.ts";

/**
 * The console's handler for one listener (`separate`: the admin listener). `undefined` for
 * requests the console does not answer there.
 */
export function consoleMount(
  ui: OperatorConsole,
  gateway: AdminGateway,
  separate: boolean,
): (req: Request) => Promise<Response | undefined> {
  const authorize = (req: Request): TokenCheck => {
    const token = bearerToken(req.headers);
    if (token === undefined) return "none";
    const admin = gateway.runtime().config.admin;
    if (admin.tokenSha256 && secretMatches(token, admin.tokenSha256)) return "admin";
    // As for the admin API: someone knocking is worth a line; the token itself never is.
    gateway.logger.warn("console request refused", {
      event: "admin",
      path: new URL(req.url).pathname,
      reason: "wrong token",
    });
    return "wrong";
  };
  return (req) => {
    const admin = gateway.runtime().config.admin;
    // Where the admin API is served, the console is: on its own listener when there is one.
    if (separate !== Boolean(admin.enabled && admin.listen)) return Promise.resolve(undefined);
    return ui.handle(req, {
      runtime: () => gateway.runtime(),
      authorize,
      ...(admin.enabled ? { adminPath: admin.pathPrefix } : {}),
    });
  };
}
