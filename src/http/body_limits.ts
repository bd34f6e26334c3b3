/**
 * One {@linkcode BodyGuardOptions} per `server` block: what `readGuarded` needs, built once per
 * config rather than per request, shared by the proxy routes and the admin API so that every body
 * the gateway reads counts against one `server.max-pending-body-bytes`.
 *
 * @module
 */

import type { ServerConfig } from "../config/types.ts";
import type { DeadlineSweep } from "../proxy/deadlines.ts";
import type { BodyGuardOptions } from "./body_guard.ts";
import type { PendingBodies } from "./pending_bodies.ts";

/**
 * The body limits of each `server` block (one object per config, reused by every request), all
 * counting against one `pending` and watched by one `deadlines` sweep — the proxy routes' and the
 * admin API's alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeadlineSweep } from "../proxy/deadlines.ts";
 * import { bodyGuards } from "./body_limits.ts";
 * import { PendingBodies } from "./pending_bodies.ts";
 * const server = { bodyLimit: 10, bodyIdleTimeoutMs: 1, bodyTimeoutMs: 2, maxPendingBodyBytes: 3 };
 * const guard = bodyGuards(new PendingBodies(), new DeadlineSweep());
 * assert.equal(guard(server), guard(server));
 * assert.equal(guard(server).limit, 10);
 * ```
 */
export function bodyGuards(
  pending: PendingBodies,
  deadlines: DeadlineSweep,
): (server: BodyLimits) => BodyGuardOptions {
  const guards = new WeakMap<BodyLimits, BodyGuardOptions>();
  return (server) => {
    let guard = guards.get(server);
    if (!guard) {
      guard = {
        limit: server.bodyLimit,
        idleTimeoutMs: server.bodyIdleTimeoutMs,
        totalTimeoutMs: server.bodyTimeoutMs,
        maxPendingBytes: server.maxPendingBodyBytes,
        pending,
        deadlines,
      };
      guards.set(server, guard);
    }
    return guard;
  };
}

/** The `server.*` keys the body guard reads. */
export type BodyLimits = Pick<
  ServerConfig,
  "bodyLimit" | "bodyIdleTimeoutMs" | "bodyTimeoutMs" | "maxPendingBodyBytes"
>;
