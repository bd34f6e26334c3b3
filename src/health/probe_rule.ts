/**
 * The rule that turns a probe's HTTP status into "up" or "down".
 *
 * A probe asks "is the server there and serving this API?", not "did my request succeed?":
 *
 * | status                  | verdict | why                                                         |
 * | ----------------------- | ------- | ----------------------------------------------------------- |
 * | 2xx                     | up      | it served the request                                       |
 * | 3xx                     | up      | it answered; redirects are not followed (stay on the host)  |
 * | 404, 405                | down    | path or method not served: wrong backend, `path` or model   |
 * | other 4xx (401, 429, …) | up      | alive and answering; auth and quota are the request path's  |
 * | 5xx                     | down    | the server says it cannot serve (RFC 9110 §15.6)            |
 * | anything else           | down    | not a valid final status                                    |
 *
 * Network errors and timeouts are "down" too; the prober decides those before a status exists.
 *
 * @module
 */

/**
 * Whether a probe response with this status counts as a success (see the module table).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isProbeStatusUp } from "./mod.ts";
 *
 * assert(isProbeStatusUp(200) && isProbeStatusUp(401));
 * assert(!isProbeStatusUp(404) && !isProbeStatusUp(503));
 * ```
 */
export function isProbeStatusUp(status: number): boolean {
  if (!Number.isInteger(status)) return false;
  if (status >= 200 && status < 400) return true;
  if (status === 404 || status === 405) return false;
  return status >= 400 && status < 500;
}
