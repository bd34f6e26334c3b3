/**
 * The gateway's listening socket, renewable. Deno's HTTP server (2.9) has no header-read timeout,
 * no keep-alive timeout and no connection limit: a connection that sends nothing, half a request
 * line or half its headers is held forever, and so is one whose body read is in flight (see
 * `body_guard.ts`). Nothing in Deno's API closes such a connection — except the graceful shutdown
 * of the server that accepted it, which closes every connection that is not in the middle of a
 * request (idle, half-sent head, abandoned body read) and lets requests in progress finish.
 *
 * So this module *renews* the server: a fresh `Deno.serve` binds the same port beside the old one
 * (`SO_REUSEPORT`, `--unstable-net`), then the old one shuts down gracefully. No request is cut,
 * in-flight streams finish on the old server; connections that were idle or stuck before their
 * request are closed. It renews:
 *
 * - every `server.header-timeout` (10 s by default): a bound on how long a connection can stay
 *   without a request. A renewal also closes idle keep-alive connections, and a client that sends
 *   on one at that very instant sees it closed (the race every keep-alive timeout has; measured
 *   1 request in 40,000 when renewing every 500 ms under load). So this renewal waits for a quiet
 *   moment — no request arrived for `quietMs` — when a pooled connection has long seen the close
 *   before it is used again. It also waits while a request body is being received (the
 *   old server's shutdown would cut an upload in progress; each is bounded by the body
 *   deadlines). Under traffic that never pauses it waits; stalled connections are then closed by
 *   the two renewals below, when descriptors run short;
 * - when the process holds more than `server.max-connections` open files (sockets included),
 *   checked once a second — a cap that keeps slow clients from exhausting file descriptors;
 * - when the accept loop fails (`EMFILE`): Deno then stops accepting for good, and the stuck
 *   connections it still holds are closed only by shutting that server down.
 *
 * Renewal costs the request path nothing: the handler is Deno's own, untouched. Where the port
 * cannot be shared (no `--unstable-net`, or a platform without `SO_REUSEPORT`) the old server is
 * shut down first and the new one binds after it, leaving a gap of a few milliseconds.
 *
 * @module
 */

/** Why the listener was renewed. */
export type RenewReason = "header-timeout" | "max-connections" | "accept-error";

/** What the listener needs of `Deno.serve` (a test can wrap it). */
export type ServeFn = (
  options: Deno.ServeTcpOptions & { reusePort?: boolean },
  handler: Deno.ServeHandler<Deno.NetAddr>,
) => Deno.HttpServer<Deno.NetAddr>;

/** Timer functions, injectable for tests. */
export interface ListenerTimers {
  readonly now: () => number;
  readonly setInterval: (fn: () => void, ms: number) => unknown;
  readonly clearInterval: (id: unknown) => void;
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
}

/** Options of {@linkcode serveRenewable}. */
export interface ListenerOptions {
  readonly hostname: string;
  readonly port: number;
  readonly handler: Deno.ServeHandler<Deno.NetAddr>;
  /** Renew this often, ms; 0 never. */
  readonly headerTimeoutMs: number;
  /**
   * Request bodies being received: a periodic renewal waits until there are none (the old
   * server's shutdown would cut them; each is bounded by the body deadlines).
   */
  readonly receiving?: () => number;
  /**
   * A periodic renewal waits until no request has arrived for this long, ms.
   * @default {250}
   */
  readonly quietMs?: number;
  /** Renew when `openFiles()` exceeds this; 0 never. */
  readonly maxConnections: number;
  /** The process's open files now, `undefined` when unknown. */
  readonly openFiles?: () => number | undefined;
  /** How often the connection count is read, ms. @default {1000} */
  readonly checkIntervalMs?: number;
  readonly onListen?: (addr: Deno.NetAddr) => void;
  /** Told of every renewal (log it, count it). */
  readonly onRenew?: (reason: RenewReason, detail: string) => void;
  /** Told of errors that do not stop the listener. */
  readonly onError?: (error: unknown) => void;
  /** @default {Deno.serve} */
  readonly serve?: ServeFn;
  readonly timers?: ListenerTimers;
}

/** A renewable listener: `Deno.HttpServer`'s `addr` and `shutdown()`, plus `renew()`. */
export interface RenewableListener {
  readonly addr: Deno.NetAddr;
  /** Servers still finishing requests after a renewal (for tests and metrics). */
  readonly retiring: number;
  /** Renews now. */
  renew(reason: RenewReason, detail?: string): void;
  /** Stops renewing; shuts every server down gracefully (in-flight requests finish). */
  shutdown(): Promise<void>;
}

const REAL_TIMERS: ListenerTimers = {
  now: () => performance.now(),
  setInterval: (fn, ms) => {
    const id = setInterval(fn, ms);
    Deno.unrefTimer(id as unknown as number);
    return id;
  },
  clearInterval: (id) => clearInterval(id as ReturnType<typeof setInterval>),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

/** Longest wait between two attempts to bind again after a failure, ms. */
const MAX_RETRY_MS = 5000;

function validate(o: ListenerOptions): void {
  for (const key of ["headerTimeoutMs", "maxConnections", "quietMs"] as const) {
    const value = o[key] ?? 0;
    if (!(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`Cannot create listener: "${key}" must be >= 0, received ${value}`);
    }
  }
  if (o.checkIntervalMs !== undefined && !(o.checkIntervalMs > 0)) {
    throw new RangeError(
      `Cannot create listener: "checkIntervalMs" must be > 0, received ${o.checkIntervalMs}`,
    );
  }
}

/**
 * Serves `handler` on a renewable listener.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveRenewable } from "./listener.ts";
 * const listener = serveRenewable({
 *   hostname: "127.0.0.1", port: 0, handler: () => new Response("ok"),
 *   headerTimeoutMs: 0, maxConnections: 0,
 * });
 * const url = `http://127.0.0.1:${listener.addr.port}/`;
 * assert.equal(await (await fetch(url)).text(), "ok");
 * listener.renew("header-timeout");
 * assert.equal(await (await fetch(url)).text(), "ok"); // same port, new server
 * await listener.shutdown();
 * ```
 */
export function serveRenewable(o: ListenerOptions): RenewableListener {
  validate(o);
  const serve: ServeFn = o.serve ?? Deno.serve;
  const timers = o.timers ?? REAL_TIMERS;
  const retiring = new Set<Promise<void>>();
  let shared = true;
  let stopping = false;
  let retryMs = 50;
  let lastRenewal = timers.now();
  let lastArrival = -Infinity;
  let port = o.port;
  const quietMs = o.quietMs ?? 250;
  // One clock read per request: when the last one arrived, for the quiet-moment rule.
  const handler: Deno.ServeHandler<Deno.NetAddr> = o.headerTimeoutMs > 0
    ? (req, info) => {
      lastArrival = timers.now();
      return o.handler(req, info);
    }
    : o.handler;

  const retire = (server: Deno.HttpServer<Deno.NetAddr>): Promise<void> => {
    const done = server.shutdown().catch((error) => o.onError?.(error)).finally(() => retiring.delete(done));
    retiring.add(done);
    return done;
  };

  const bind = (first: boolean): Deno.HttpServer<Deno.NetAddr> => {
    const options = {
      hostname: o.hostname,
      port,
      onListen: (addr: Deno.NetAddr) => first && o.onListen?.(addr),
    };
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = serve(shared ? { ...options, reusePort: true } : options, handler);
    } catch (error) {
      // No --unstable-net, or no SO_REUSEPORT here: renew by closing first.
      if (!shared || !(error instanceof Error) || !/reusePort|unstable|not supported/i.test(error.message)) {
        throw error;
      }
      shared = false;
      server = serve(options, handler);
    }
    port = server.addr.port;
    server.finished.catch((error) => {
      if (stopping || server !== current) return;
      o.onError?.(error);
      renew("accept-error", String(error));
    });
    return server;
  };

  /** Binds until it works (the old socket may take a moment to go, or fds may be short). */
  const rebind = (): void => {
    if (stopping) return;
    try {
      current = bind(false);
      retryMs = 50;
    } catch (error) {
      o.onError?.(error);
      timers.setTimeout(rebind, retryMs);
      retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
    }
  };

  const renew = (reason: RenewReason, detail = ""): void => {
    if (stopping) return;
    lastRenewal = timers.now();
    o.onRenew?.(reason, detail);
    const old = current;
    if (shared) {
      try {
        current = bind(false);
        void retire(old);
        return;
      } catch (error) {
        // The port cannot be shared after all, or no descriptor is left for a new socket:
        // closing the old server first frees both.
        o.onError?.(error);
      }
    }
    void retire(old).then(rebind);
  };

  let current = bind(true);
  const interval = o.checkIntervalMs ?? 1000;
  const timer = o.headerTimeoutMs > 0 || o.maxConnections > 0
    ? timers.setInterval(
      () => {
        const now = timers.now();
        if (
          o.headerTimeoutMs > 0 && now - lastRenewal >= o.headerTimeoutMs && now - lastArrival >= quietMs &&
          !(o.receiving?.() ?? 0)
        ) {
          return renew("header-timeout");
        }
        const open = o.maxConnections > 0 ? o.openFiles?.() : undefined;
        if (open !== undefined && open > o.maxConnections) {
          renew("max-connections", `${open} open files > ${o.maxConnections}`);
        }
      },
      Math.min(
        interval,
        o.headerTimeoutMs > 0 ? Math.max(1, Math.min(o.headerTimeoutMs, quietMs)) : interval,
      ),
    )
    : undefined;

  return {
    get addr() {
      return current.addr;
    },
    get retiring() {
      return retiring.size;
    },
    renew,
    async shutdown() {
      stopping = true;
      if (timer !== undefined) timers.clearInterval(timer);
      await Promise.all([current.shutdown(), ...retiring]);
    },
  };
}
