/**
 * `createConsole(deps)`: the operator console as one request handler plus the access-record hook
 * that feeds its history. `src/http` mounts it (on the admin listener when there is one) and tells
 * it whether a request carries the admin token; everything else is decided here:
 *
 * | path (below `console.path`) | answer                                                      |
 * | --------------------------- | ----------------------------------------------------------- |
 * | `/`                         | the page (public: it holds no data), revalidated by ETag    |
 * | `/assets/<build>/…`         | scripts, styles, vendored libraries: immutable              |
 * | `/api/feed`                 | the live feed (SSE); the admin token unless `public-read`   |
 * | `/api/access`               | `{"publicRead": bool}`: whether the page must ask for the token |
 *
 * Actions are not here: the page calls the admin API itself, so its validation, YAML write-back
 * and audit log are the API's.
 *
 * @module
 */

import { errorResponse, GatewayError, NotFoundError, UnauthorizedError } from "../errors.ts";
import type { Runtime } from "../proxy/runtime.ts";
import type { AccessRecord, Clock } from "../types.ts";
import { type AssetSet, loadAssets, type ReadAsset, serveAsset } from "./assets.ts";
import { createFeed, type Feed, type FeedTimers } from "./feed.ts";
import { createSnapshots, type LoadSource, type ProcessView } from "./snapshot.ts";
import { type ConsoleStats, createConsoleStats } from "./stats.ts";

/**
 * The page may load only what this gateway serves: no inline script or style, no other origin, no
 * framing (CSP Level 3).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Whether a request carries the admin token: `admin` (the right one), `none`, or `wrong`. */
export type TokenCheck = "admin" | "none" | "wrong";

/** What the mount in `src/http` tells the console about a request. */
export interface ConsoleContext {
  runtime(): Runtime;
  /** Checks the request's `Authorization: Bearer` against the admin token. */
  authorize(req: Request): TokenCheck;
  /** The admin API's prefix on this listener; absent when actions are not possible there. */
  readonly adminPath?: string;
}

/** Dependencies of {@linkcode createConsole}. */
export interface ConsoleDeps {
  readonly clock: Clock;
  /** The gateway's version, shown on the page. */
  readonly version: string;
  /** When the gateway started (ms since the epoch). @default {clock()} */
  readonly startedAt?: number;
  /** Engine load signals per instance, when the gateway has them. */
  readonly loadOf?: LoadSource;
  /** The process's memory and event-loop lag, shown in the header every second. */
  readonly process?: () => ProcessView;
  /** Timers of the feed. @default {globalThis} */
  readonly timers?: FeedTimers;
  /** Pages connected at most. @default {16} */
  readonly maxClients?: number;
  /** Pages connected without the admin token at most (`console.public-read`). @default {half of maxClients} */
  readonly maxReadOnlyClients?: number;
  /** Reads the static files. @default {files beside the module} */
  readonly readAsset?: ReadAsset;
}

/** The operator console. */
export interface OperatorConsole {
  /** The dispatch observer's access hook: one call per finished request. */
  record(rec: AccessRecord): void;
  /** The gateway's failed-attempt hook (`onAttemptFailed`): one call per attempt failed over. */
  attemptFailed(instance: string): void;
  /** Answers a request below `console.path`; `undefined` for every other path (or when off). */
  handle(req: Request, ctx: ConsoleContext): Promise<Response | undefined>;
  /** Ends every open feed (before the server drains). */
  close(): void;
  readonly stats: ConsoleStats;
  /** The static files (loaded at creation). */
  assets(): Promise<AssetSet>;
}

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Creates the console.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConsole } from "./handler.ts";
 * import { createGateway } from "../gateway.ts";
 * import { parseConfig } from "../config/load.ts";
 * const { config } = parseConfig("model: {}\nconsole: { enabled: true, public-read: true }\n", { source: "x.yaml", env: {} });
 * const gateway = createGateway(config, { clock: Date.now, random: Math.random, fetch, write: () => {} });
 * const ui = createConsole({ clock: Date.now, version: "1.0.0" });
 * const ctx = { runtime: () => gateway.runtime(), authorize: () => "none" as const };
 * const page = await ui.handle(new Request("http://x/ui/"), ctx);
 * assert(page?.status === 200 && page.headers.get("content-security-policy")?.includes("script-src 'self'"));
 * await page.body?.cancel();
 * assert.equal(await ui.handle(new Request("http://x/v1/models"), ctx), undefined);
 * ui.close();
 * ```
 */
export function createConsole(deps: ConsoleDeps): OperatorConsole {
  if (typeof deps?.clock !== "function") {
    throw new TypeError(`Cannot create console: "clock" must be a function, received ${typeof deps?.clock}`);
  }
  const stats = createConsoleStats({ clock: deps.clock });
  const snapshots = createSnapshots({
    clock: deps.clock,
    version: deps.version,
    startedAt: deps.startedAt ?? deps.clock(),
    stats,
    ...(deps.loadOf ? { loadOf: deps.loadOf } : {}),
    ...(deps.process ? { process: deps.process } : {}),
  });
  let assets: Promise<AssetSet> | undefined;
  const loaded = () => (assets ??= loadAssets(deps.readAsset));
  // The runtime of the last page that connected: ticks describe the listener's gateway.
  let current: (() => Runtime) | undefined;
  let lastSent = 0;
  const feed: Feed = createFeed({
    tick: () => {
      const msg = snapshots.tick(current!(), lastSent);
      lastSent = msg.recent.at(-1)?.seq ?? lastSent;
      return msg;
    },
    clock: deps.clock,
    ...(deps.timers ? { timers: deps.timers } : {}),
    ...(deps.maxClients ? { maxClients: deps.maxClients } : {}),
    ...(deps.maxReadOnlyClients ? { maxReadOnly: deps.maxReadOnlyClients } : {}),
  });

  const live = (req: Request, ctx: ConsoleContext): Response => {
    const rt = ctx.runtime();
    const check = ctx.authorize(req);
    if (check === "wrong") return errorResponse(new UnauthorizedError("Wrong admin token."));
    if (check === "none" && !rt.config.console.publicRead) {
      return errorResponse(new UnauthorizedError("This console needs the admin token."));
    }
    current = ctx.runtime;
    const access = check === "admin" ? "admin" : "read";
    const hello = snapshots.hello(rt, access, access === "admin" ? ctx.adminPath : undefined);
    lastSent = Math.max(lastSent, stats.recent.last);
    const stream = feed.connect(hello, req.signal, access);
    if (!stream) {
      return errorResponse(
        new GatewayError(
          503,
          "server_error",
          "console_unavailable",
          access === "admin"
            ? "Too many consoles are open with the admin token (close one), or the gateway is stopping."
            : "Too many consoles are open without the admin token (one with it still gets in), or the gateway is stopping.",
        ),
      );
    }
    return new Response(stream, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  };

  return {
    record: (rec) => stats.record(rec),
    attemptFailed: (instance) => stats.attemptFailed(instance),
    stats,
    assets: loaded,
    close: () => feed.close(),
    async handle(req, ctx) {
      const cfg = ctx.runtime().config.console;
      // Cheap test first: this runs in front of every request of its listener.
      if (!cfg.enabled || !req.url.includes(cfg.path)) return undefined;
      const url = new URL(req.url);
      if (!under(url.pathname, cfg.path)) return undefined;
      const rest = url.pathname.slice(cfg.path.length);
      const withHeaders = (res: Response) => {
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.headers.set(k, v);
        return res;
      };
      if (req.method !== "GET" && req.method !== "HEAD") {
        return withHeaders(errorResponse(
          new GatewayError(
            405,
            "invalid_request_error",
            "method_not_allowed",
            "The console only answers GET.",
          ),
        ));
      }
      if (rest === "") {
        return new Response(null, {
          status: 308,
          headers: { ...SECURITY_HEADERS, location: `${cfg.path}/` },
        });
      }
      if (rest === "/api/feed") return live(req, ctx);
      if (rest === "/api/access") {
        return Response.json({ publicRead: cfg.publicRead }, {
          headers: { ...SECURITY_HEADERS, "cache-control": "no-store" },
        });
      }
      const set = await loaded();
      if (rest === "/" || rest === "/index.html") return serveAsset(set.page, req, false, SECURITY_HEADERS);
      const prefix = `/assets/${set.build}/`;
      const asset = rest.startsWith(prefix) ? set.get(rest.slice(prefix.length)) : undefined;
      if (asset) return serveAsset(asset, req, true, SECURITY_HEADERS);
      return withHeaders(errorResponse(
        new NotFoundError(`Unknown console URL: ${url.pathname}.`, "unknown_url", null),
      ));
    },
  };
}
