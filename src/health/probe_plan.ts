/**
 * The probe an instance's resolved `health-check` describes:
 *
 * - `type: http` (default): the adapter's probe (its path, method and auth headers), with the
 *   block's `path` (joined to the base URL like a request path) and `method` when written;
 * - `type: tcp`: a TCP connect to the base URL's host and port (80/443 when the URL has none);
 * - `type: none`, or `enabled: false`: no active probe at all.
 *
 * @module
 */

import { joinUrl } from "../adapters/url.ts";
import type { HealthConfig } from "../config/types.ts";
import type { ProbeRequest, StatusRange, TcpAddress } from "../types.ts";

/** How to probe one instance. */
export interface ProbePlan {
  /** Builds the probe, once per round. */
  readonly request: () => ProbeRequest | TcpAddress;
  /** HTTP statuses that count as up; absent = any answer below 500. */
  readonly expect?: readonly StatusRange[];
  /** Per-probe deadline, ms. */
  readonly timeoutMs: number;
}

/**
 * Where a `type: tcp` probe connects for `baseUrl`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tcpAddressOf } from "./probe_plan.ts";
 * assert.deepEqual(tcpAddressOf("https://gpu1.lan/v1"), { hostname: "gpu1.lan", port: 443 });
 * assert.deepEqual(tcpAddressOf("http://[::1]:8000"), { hostname: "::1", port: 8000 });
 * ```
 */
export function tcpAddressOf(baseUrl: string): TcpAddress {
  const url = new URL(baseUrl);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  return { hostname, port };
}

/**
 * Whether a resolved `health-check` asks for an active probe. Without one nothing could readmit an
 * ejected instance, so passive ejection is off too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isActivelyProbed } from "./probe_plan.ts";
 * assert(isActivelyProbed({ enabled: true, type: "tcp" }));
 * assert(!isActivelyProbed({ enabled: true, type: "none" }) && !isActivelyProbed({ enabled: false, type: "http" }));
 * ```
 */
export function isActivelyProbed(health: Pick<HealthConfig, "enabled" | "type">): boolean {
  return health.enabled && health.type !== "none";
}

/**
 * Plans the probe of one instance; `undefined` when it is not actively probed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planProbe } from "./probe_plan.ts";
 *
 * const health = {
 *   enabled: true, intervalMs: 10_000, timeoutMs: 3_000, healthyThreshold: 1, unhealthyThreshold: 2,
 *   passiveFailures: 3, type: "http" as const, path: "/health", method: "HEAD" as const,
 * };
 * const adapterProbe = () => ({ url: "http://h:1/v1/models", method: "GET" as const, headers: new Headers() });
 * const plan = planProbe(health, adapterProbe, "http://h:1");
 * const req = plan!.request();
 * assert("url" in req && req.url === "http://h:1/health" && req.method === "HEAD");
 * assert.equal(planProbe({ ...health, type: "none" }, adapterProbe, "http://h:1"), undefined);
 * ```
 */
export function planProbe(
  health: HealthConfig,
  adapterProbe: () => ProbeRequest,
  baseUrl: string,
): ProbePlan | undefined {
  if (!isActivelyProbed(health)) return undefined;
  const timeoutMs = health.timeoutMs;
  if (health.type === "tcp") {
    const address = tcpAddressOf(baseUrl);
    return { request: () => address, timeoutMs };
  }
  const { path, method, expectStatus } = health;
  const request = path === undefined && method === undefined ? adapterProbe : () => {
    const base = adapterProbe();
    const m = method ?? base.method;
    return {
      url: path === undefined ? base.url : joinUrl(baseUrl, path),
      method: m,
      headers: base.headers,
      // GET and HEAD carry no body (fetch refuses one).
      ...(base.body !== undefined && m !== "GET" && m !== "HEAD" ? { body: base.body } : {}),
    };
  };
  return { request, timeoutMs, ...(expectStatus ? { expect: expectStatus } : {}) };
}
