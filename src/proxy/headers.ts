/**
 * Header hygiene for proxying. Hop-by-hop headers (RFC 9110 §7.6.1: `Connection`, the fields it
 * names, `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`) belong to one
 * connection and are never forwarded; neither are headers the gateway itself consumes.
 *
 * @module
 */

import { HeaderList } from "../header_list.ts";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Request headers the gateway never forwards: hop-by-hop ones, `host` and `content-length`
 * (fetch sets both for the upstream), `accept-encoding` (so the upstream answers uncompressed and
 * streams stay inspectable), and what the gateway sets itself.
 */
const REQUEST_DROP = new Set([
  ...HOP_BY_HOP,
  "host",
  "content-length",
  "accept-encoding",
  "x-request-id",
  "traceparent",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
]);

/**
 * Headers in which a proxy states the client's address. Like `X-Forwarded-For`, they are believed
 * only from a peer in `server.trusted-proxies`; from anyone else they are a client's claim and an
 * upstream that logs or limits by them would be fooled, so they are dropped.
 */
const CLIENT_IP_CLAIMS = new Set(["x-real-ip", "true-client-ip", "x-client-ip", "cf-connecting-ip"]);

/** Response headers not passed back: hop-by-hop ones, plus length/encoding that no longer hold. */
const RESPONSE_DROP = new Set([...HOP_BY_HOP, "content-length", "content-encoding", "date", "server"]);

/** Extra names listed in a `Connection` header are hop-by-hop for that message too. */
function connectionListed(value: string | null): Set<string> | undefined {
  if (!value) return undefined;
  return new Set(value.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean));
}

/** Options for {@linkcode forwardRequestHeaders}. */
export interface ForwardHeaderOptions {
  /** Client IP appended to `X-Forwarded-For`. */
  readonly clientIp: string;
  /** The `X-Forwarded-For` chain as received (only from a trusted proxy). */
  readonly forwardedFor?: string | null;
  /** The peer is a trusted proxy: its `X-Real-IP` (and kin) are forwarded, else dropped. */
  readonly trustedPeer?: boolean;
  readonly requestId: string;
  /** `traceparent` to send upstream. */
  readonly traceparent?: string;
  /** Drop the client's `Authorization` / `X-API-Key` (they authenticated at the gateway). */
  readonly dropClientAuth: boolean;
  /** Another header (lower-case) that carried the client's key (`auth.header-name`): dropped too. */
  readonly authHeader?: string;
  /** The original scheme. */
  readonly proto: string;
}

/**
 * Builds the headers to send upstream from the client's: one pass, one list (adapters copy it
 * once more to add the backend's auth, and `fetch` takes the result as is).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forwardRequestHeaders } from "./headers.ts";
 * const h = forwardRequestHeaders(new Headers({ connection: "close", "x-custom": "1" }), {
 *   clientIp: "10.0.0.1", requestId: "r1", dropClientAuth: false, proto: "http",
 * });
 * assert(h.get("x-custom") === "1" && !h.has("connection"));
 * assert(h.get("x-forwarded-for") === "10.0.0.1");
 * ```
 */
export function forwardRequestHeaders(incoming: Headers, options: ForwardHeaderOptions): HeaderList {
  const listed = connectionListed(incoming.get("connection"));
  const out: [string, string][] = [];
  // `Headers` gives names lower-cased, sorted and with repeats joined: each name occurs once.
  // (`forEach`, not `for…of`: Deno's iterator allocates per entry, ~5× slower.)
  incoming.forEach((value, name) => {
    if (REQUEST_DROP.has(name) || listed?.has(name)) return;
    if (!options.trustedPeer && CLIENT_IP_CLAIMS.has(name)) return;
    if (
      options.dropClientAuth &&
      (name === "authorization" || name === "x-api-key" || name === options.authHeader)
    ) return;
    out.push([name, value]);
  });
  const chain = options.forwardedFor ? `${options.forwardedFor}, ${options.clientIp}` : options.clientIp;
  out.push(["x-forwarded-for", chain], ["x-forwarded-proto", options.proto], [
    "x-request-id",
    options.requestId,
  ]);
  if (options.traceparent) out.push(["traceparent", options.traceparent]);
  return new HeaderList(out);
}

/**
 * Copies the upstream's response headers that may reach the client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { responseHeaders } from "./headers.ts";
 * const h = responseHeaders(new Headers({ "transfer-encoding": "chunked", "content-type": "text/event-stream" }));
 * assert(!h.has("transfer-encoding") && h.get("content-type") === "text/event-stream");
 * ```
 */
export function responseHeaders(upstream: Headers): HeaderList {
  const listed = connectionListed(upstream.get("connection"));
  const out: [string, string][] = [];
  upstream.forEach((value, name) => {
    if (!RESPONSE_DROP.has(name) && !listed?.has(name)) out.push([name, value]);
  });
  return new HeaderList(out);
}
