/**
 * Upstream request headers: the client's (already filtered) headers, the body's content type,
 * the backend's auth header, then the instance's own headers, in that order so that the
 * configuration has the last word.
 *
 * @module
 */

import { HeaderList } from "../header_list.ts";
import type { InstanceTarget } from "../types.ts";

/** How a backend wants its secret: a header name and an optional scheme prefix. */
export interface AuthStyle {
  /** Header name, e.g. `authorization`. */
  readonly header: string;
  /** Scheme written before the key, e.g. `Bearer`; empty = the bare key. */
  readonly scheme: string;
}

/** `Authorization: Bearer <key>`, what every OpenAI-compatible server expects. */
export const BEARER: AuthStyle = Object.freeze({ header: "authorization", scheme: "Bearer" });

/** Request headers that carry a client's credential (OpenAI SDKs send the first, others the second). */
const CLIENT_CREDENTIALS: ReadonlySet<string> = new Set(["authorization", "x-api-key", "api-key"]);

/** Instance header names that carry a secret of the instance's own. */
const SECRET_NAME = /auth|key|token|secret/i;

const ownCredential = new WeakMap<InstanceTarget, boolean>();

/**
 * Whether the instance sends a credential of its own (`api-key`, or a secret-named header): the
 * client's credential must then never reach it, whether or not the gateway checked it.
 */
function hasOwnCredential(target: InstanceTarget): boolean {
  let own = ownCredential.get(target);
  if (own === undefined) {
    own = target.apiKey !== undefined && target.apiKey !== "" ||
      Object.keys(target.headers).some((name) => SECRET_NAME.test(name));
    ownCredential.set(target, own);
  }
  return own;
}

/** JSON content type sent with rewritten JSON bodies. */
export const JSON_CONTENT_TYPE = "application/json";

/**
 * Builds the upstream headers. `contentType` undefined leaves the content type alone (GET).
 * `content-length` is always dropped: fetch computes it from the body actually sent, and a
 * rewritten body has a different length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { upstreamHeaders } from "./headers.ts";
 * import { HeaderList } from "../header_list.ts";
 * const h = upstreamHeaders(new HeaderList([["x-request-id", "r1"]]), "application/json", {
 *   baseUrl: "http://h", apiKey: "k", headers: { "x-tenant": "t" },
 * });
 * assert(h.get("authorization") === "Bearer k" && h.get("x-tenant") === "t");
 * assert(h.get("x-request-id") === "r1");
 * ```
 */
export function upstreamHeaders(
  client: HeaderList,
  contentType: string | undefined,
  target: InstanceTarget,
  auth: AuthStyle = BEARER,
): HeaderList {
  // One pass over the client's list; the names replaced below are skipped instead of deleted.
  const out: [string, string][] = [];
  const own = hasOwnCredential(target);
  for (const pair of client) {
    const name = pair[0];
    if (name === "content-length") continue;
    if (contentType !== undefined && name === "content-type") continue;
    // The client's own credential is for the gateway, never for a backend that has its own.
    if (own && (CLIENT_CREDENTIALS.has(name) || name === auth.header || name === target.clientKeyHeader)) {
      continue;
    }
    out.push(pair);
  }
  const headers = new HeaderList(out);
  if (contentType !== undefined) headers.append("content-type", contentType);
  if (target.apiKey) {
    headers.set(auth.header, auth.scheme ? `${auth.scheme} ${target.apiKey}` : target.apiKey);
  }
  for (const name in target.headers) headers.set(name, target.headers[name]);
  return headers;
}

/**
 * Headers of a health probe: auth and the instance's headers only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeHeaders } from "./headers.ts";
 * const h = probeHeaders({ baseUrl: "http://h", apiKey: "k", headers: {} });
 * assert(h.get("authorization") === "Bearer k");
 * ```
 */
export function probeHeaders(target: InstanceTarget, auth: AuthStyle = BEARER): Headers {
  return new Headers(upstreamHeaders(new HeaderList(), undefined, target, auth));
}
