/**
 * The client's key on a route the app answers itself (`/v1/models`, `/metrics`, the status pages,
 * Ollama's lists, `count_tokens`): checked here, and a refusal noted on the context for its
 * access-log line (written by `app.ts`'s outer middleware; dispatched routes log their own).
 *
 * @module
 */

import type { Context } from "hono";
import type { ApiKeyConfig, AuthConfig } from "../config/types.ts";
import type { GatewayError } from "../errors.ts";
import { authenticate, denialError, isDenial, type Subject } from "../proxy/access.ts";
import type { Denial } from "../proxy/request.ts";
import type { AppEnv } from "./app.ts";

/** The error of `denial`, noted on `c` as a refusal (its access-log line); to throw. */
export function refused(c: Context<AppEnv>, denial: Denial, subject?: Subject): GatewayError {
  const error = denialError(denial, subject);
  c.set("refusal", error.code);
  return error;
}

/** The client's key (`undefined` when auth is off); throws the refusal (401) when it has none. */
export function clientKey(c: Context<AppEnv>, auth: AuthConfig, now: number): ApiKeyConfig | undefined {
  const key = authenticate(auth, c.req.raw.headers, now);
  if (isDenial(key)) throw refused(c, key);
  return key;
}
