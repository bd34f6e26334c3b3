/**
 * `createApp(deps)`: the Hono application. It only wires routes — request id, client IP, body
 * limits, trace context — and hands the parsed request to `proxy/dispatch.ts`, where the rules
 * live. Every error leaves through one `onError` as OpenAI-shaped JSON.
 *
 * @module
 */

import { Hono } from "hono";
import type { ApiKeyConfig, Config, ServerConfig } from "../config/types.ts";
import { errorResponse, type GatewayError, NotFoundError } from "../errors.ts";
import { createTraceContext, formatTraceparent, parseTraceparent, requestId } from "../observe/trace.ts";
import { authenticate, denialError, isDenial } from "../proxy/access.ts";
import { dispatch, type DispatchDeps, type GatewayRequest, type RequestHandler } from "../proxy/dispatch.ts";
import { forwardRequestHeaders } from "../proxy/headers.ts";
import type { Runtime } from "../proxy/runtime.ts";
import type { Clock, Random, ServiceKind } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import { clientKey } from "./route_auth.ts";
import { type BodyReader, type ParsedBody, readRequestBody } from "./body.ts";
import { type BodyGuardOptions, drainUnread, readGuarded } from "./body_guard.ts";
import { DIALECT_PATHS, mountDialectRoutes } from "./dialect_routes.ts";
import { modelDocument, modelList } from "./models.ts";
import { createTrustMatcher, resolveClientIp } from "./client_ip.ts";
import { PROXY_ROUTES, type ProxyRoute, STATUS_ROUTES } from "./routes.ts";
import { serviceStatus } from "./status.ts";

/** What the app needs from the composition root. */
export interface AppDeps {
  /** The current routing table (swapped atomically on reload). */
  readonly runtime: () => Runtime;
  readonly dispatch: DispatchDeps;
  readonly clock: Clock;
  readonly random: Random;
  /** Prometheus exposition, when metrics are on. */
  readonly metrics?: {
    render(): Promise<string>;
    readonly contentType: string;
  };
  /** The body limits of a `server` block (`body_limits.ts`; the admin API shares them). */
  readonly bodyGuard: (server: ServerConfig) => BodyGuardOptions;
  /** False while starting or draining (`/readyz` answers 503). */
  readonly ready?: () => boolean;
  /** The configuration revision this process runs (`/readyz` and the status pages report it). */
  readonly revision?: () => string;
  /** Extra routes mounted by later layers (admin API, auth). */
  readonly extend?: (app: Hono<AppEnv>) => void;
  /**
   * Deno's OpenTelemetry (`OTEL_DENO=true`) instruments `fetch` and adds its own `traceparent`
   * continuing the incoming trace; the gateway then must not add a second one.
   */
  readonly otel?: boolean;
}

/**
 * Hono environment: `c.env` is Deno's connection info; `requestId` and `clientIp` are set per
 * request, `apiKey` once the client authenticated (when `auth` is enabled).
 */
export type AppEnv = {
  Bindings: Partial<Deno.ServeHandlerInfo<Deno.NetAddr>>;
  Variables: {
    requestId: string;
    clientIp: string;
    apiKey: ApiKeyConfig | undefined;
    /**
     * Set by a route answered by the app itself (not dispatched) when it refused the client's key:
     * the refusal's code, for its access-log line (dispatched routes log their own).
     */
    refusal: string | undefined;
    /** Set by a route answered by the app itself that logs every call (`count_tokens`). */
    logged: boolean | undefined;
  };
};

/**
 * Reads a proxied request's body into what dispatch needs: an OpenAI body as it came
 * (`readRequestBody`), or a client dialect's translated (`dialect_routes.ts`), which also says
 * the service and OpenAI route it goes to and carries the dialect's call.
 */
export type Intake = (req: Request, route: ProxyRoute, read: BodyReader) => Promise<Intaken>;

/** What an {@linkcode Intake} read. */
export interface Intaken extends ParsedBody {
  readonly service?: ServiceKind;
  readonly route?: string;
  readonly dialect?: GatewayRequest["dialect"];
}

/** The OpenAI endpoints' intake. */
const openaiIntake: Intake = (req, route, read) => readRequestBody(req, route.body, read);

/** Serves a proxied route: {@linkcode Intake}, then `handler` (`dispatch`, or a wrapper of it). */
export type ProxyHandler = (
  c: import("hono").Context<AppEnv>,
  route: ProxyRoute,
  handler: RequestHandler,
  intake?: Intake,
) => Promise<Response>;

/** Routes that answer without a key even when `auth` is on: probes of systemd and load balancers. */
const OPEN_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz"]);
const PROXY_PATHS: ReadonlySet<string> = new Set(PROXY_ROUTES.map((r) => r.path));

/** Whether `path` is the prefix or below it (the admin API and the console check their own token). */
function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

const REQUEST_ID = /^[\w.:\-]{1,128}$/;
const trustCache = new WeakMap<Config, (ip: string) => boolean>();

function trustFor(config: Config): (ip: string) => boolean {
  let m = trustCache.get(config);
  if (!m) {
    m = createTrustMatcher(config.server.trustedProxies);
    trustCache.set(config, m);
  }
  return m;
}

/** The client's address: the peer's, or what trusted proxies in front of it say. */
function clientIpOf(req: Request, env: AppEnv["Bindings"] | undefined, config: Config): string {
  const peer = env?.remoteAddr?.hostname ?? "127.0.0.1";
  return resolveClientIp(peer, req.headers.get("x-forwarded-for"), trustFor(config));
}

/**
 * Builds the gateway application.
 *
 * When `auth` is enabled, every route but `/healthz`, `/readyz` and the admin prefix needs a
 * client key: the proxied endpoints, `/v1/models` (then listing only the key's models), the
 * status endpoints and `/metrics`.
 */
export function createApp(deps: AppDeps): GatewayApp {
  const app = new Hono<AppEnv>();
  const bodyGuard = deps.bodyGuard;

  /** The request's id: the client's own when well-formed, else a fresh one. */
  const idOf = (req: Request): string => {
    const incoming = req.headers.get("x-request-id");
    return incoming && REQUEST_ID.test(incoming) ? incoming : requestId(deps.random);
  };
  /** The answer is ready: an unread body (401, 404, 415…) drained under deadlines, not Deno's. */
  const finish = (req: Request, res: Response, rid: string, config: Config): void => {
    if (req.method !== "GET" && req.method !== "HEAD" && !req.bodyUsed) {
      drainUnread(req, bodyGuard(config.server));
    }
    if (!res.headers.has("x-request-id")) res.headers.set("x-request-id", rid);
  };

  // `fetch` below does the same (idOf, clientIpOf, finish) for the OpenAI endpoints without Hono.
  app.use(async (c, next) => {
    const req = c.req.raw;
    const receivedAt = deps.clock();
    c.set("requestId", idOf(req));
    const config = deps.runtime().config;
    c.set("clientIp", clientIpOf(req, c.env, config));
    await next();
    finish(req, c.res, c.get("requestId"), config);
    // A refused key on any route leaves its line (the audit trail of key guessing), as does a
    // call the app answers itself and logs (dispatched requests log their own).
    const refusal = c.get("refusal");
    if (refusal !== undefined || c.get("logged")) {
      deps.dispatch.observer.access({
        requestId: c.get("requestId"),
        clientIp: c.get("clientIp"),
        method: req.method,
        route: c.req.path,
        status: c.res.status,
        durationMs: deps.clock() - receivedAt,
        stream: false,
        retries: 0,
        ...(refusal !== undefined ? { error: refusal } : {}),
      });
    }
  });

  // Client auth for everything but the proxied endpoints, which check it themselves so that a
  // refusal still gets its access-log line.
  app.use(async (c, next) => {
    const config = deps.runtime().config;
    const path = c.req.path;
    if (
      config.auth.enabled && !OPEN_PATHS.has(path) && !PROXY_PATHS.has(path) && !DIALECT_PATHS.has(path) &&
      !underPrefix(path, config.admin.pathPrefix) &&
      // The console checks the admin token itself (mounted by `extend`).
      !(config.console.enabled && underPrefix(path, config.console.path))
    ) {
      c.set("apiKey", clientKey(c, config.auth, deps.clock()));
    }
    await next();
  });

  /** The body reader of a `server` block (one per configuration, not one closure per request). */
  const readers = new WeakMap<ServerConfig, BodyReader>();
  const readerFor = (server: ServerConfig): BodyReader => {
    let reader = readers.get(server);
    if (reader === undefined) {
      const guard = bodyGuard(server);
      reader = (r) => readGuarded(r, guard);
      readers.set(server, reader);
    }
    return reader;
  };
  const proxy: ProxyHandler = (c, route, handler, intake = openaiIntake) =>
    serveProxied(c.req.raw, c.env, c.get("requestId"), c.get("clientIp"), route, handler, intake, (key) => {
      c.set("apiKey", key);
    });
  /**
   * Parses a proxied request and hands it to `handler` (`dispatch`, or a dialect wrapping it):
   * the client's key first, then the body through `intake`; a refusal before routing still gets
   * its one access-log line.
   */
  const serveProxied = async (
    req: Request,
    env: AppEnv["Bindings"] | undefined,
    rid: string,
    clientIp: string,
    route: ProxyRoute,
    handler: RequestHandler,
    intake: Intake,
    setKey?: (key: ApiKeyConfig | undefined) => void,
  ): Promise<Response> => {
    const rt = deps.runtime();
    const receivedAt = deps.clock();
    const parent = parseTraceparent(req.headers.get("traceparent"));
    const trace = createTraceContext(parent, deps.random);
    let parsed: Intaken | undefined;
    let apiKey: ApiKeyConfig | undefined;
    try {
      // The key is checked before the body is read: no unauthenticated upload is buffered. Its
      // model list and rate limit are checked by dispatch, with every other limit.
      const key = authenticate(rt.config.auth, req.headers, receivedAt);
      if (isDenial(key)) throw denialError(key);
      apiKey = key;
      parsed = await intake(req, route, readerFor(rt.config.server));
    } catch (error) {
      // Rejected before routing: still one access-log line.
      deps.dispatch.observer.access({
        requestId: rid,
        traceId: trace.traceId,
        clientIp,
        method: req.method,
        route: route.path,
        service: route.service,
        ...(route.dialect ? { dialect: route.dialect } : {}),
        status: (error as GatewayError).status ?? 500,
        durationMs: deps.clock() - receivedAt,
        stream: false,
        retries: 0,
        error: (error as GatewayError).code ?? "internal_error",
      });
      throw error;
    }
    const peer = env?.remoteAddr?.hostname ?? "127.0.0.1";
    const trusted = trustFor(rt.config)(peer);
    const forwardHeaders = forwardRequestHeaders(req.headers, {
      clientIp: peer,
      forwardedFor: trusted ? req.headers.get("x-forwarded-for") : null,
      trustedPeer: trusted,
      requestId: rid,
      traceparent: deps.otel ? undefined : formatTraceparent(trace),
      // The client's key is for the gateway; upstreams get their own `api-key` from the config.
      dropClientAuth: rt.config.auth.enabled,
      authHeader: rt.config.auth.enabled && rt.config.auth.header ? rt.config.auth.header : undefined,
      proto: req.url.startsWith("https:") ? "https" : "http",
    });
    setKey?.(apiKey);
    return await handler(rt, deps.dispatch, {
      service: parsed.service ?? route.service,
      route: parsed.route ?? route.path,
      method: req.method,
      model: parsed.model,
      stream: parsed.stream,
      body: parsed.body,
      clientIp,
      requestId: rid,
      traceId: trace.traceId,
      apiKey,
      clientHeaders: req.headers,
      forwardHeaders,
      signal: req.signal,
      receivedAt,
      dialect: parsed.dialect,
    });
  };
  for (const route of PROXY_ROUTES) app.post(route.path, (c) => proxy(c, route, dispatch));
  mountDialectRoutes(app, {
    runtime: deps.runtime,
    clock: deps.clock,
    random: deps.random,
    proxy,
    readBody: (req) => readGuarded(req, bodyGuard(deps.runtime().config.server)),
  });

  app.get("/v1/models", (c) => c.json(modelsFor(deps.runtime(), c.get("apiKey"))));
  app.get("/v1/models/:id{.+}", (c) => {
    const found = modelDocument(deps.runtime(), c.req.param("id"), c.get("apiKey"));
    if (found === undefined) {
      throw new NotFoundError(`The model "${c.req.param("id")}" does not exist.`, "model_not_found", "model");
    }
    return c.json(found);
  });
  for (const kind of SERVICE_KINDS) {
    app.get(STATUS_ROUTES[kind], (c) => {
      const revision = deps.revision?.();
      const status = serviceStatus(deps.runtime(), kind) as Record<string, unknown>;
      return c.json(revision ? { ...status, revision } : status);
    });
  }
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const ready = deps.ready ? deps.ready() : true;
    const revision = deps.revision?.();
    return c.json(
      { status: ready ? "ready" : "draining", ...(revision ? { revision } : {}) },
      ready ? 200 : 503,
    );
  });
  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get(
      "/metrics",
      async (c) => c.body(await metrics.render(), 200, { "content-type": metrics.contentType }),
    );
  }
  deps.extend?.(app);

  app.notFound((c) =>
    errorResponse(
      new NotFoundError(`Unknown request URL: ${c.req.method} ${c.req.path}.`, "unknown_url", null),
      c.get("requestId"),
    )
  );
  app.onError((err, c) => errorResponse(err, c.get("requestId")));

  /**
   * A POST to one of the OpenAI endpoints, exactly as Hono would serve it (the request-id
   * middleware around the route, `onError` inside it; the auth middleware lets these paths
   * through, and what `extend` mounts comes after the routes, so it is never reached), without
   * Hono's context, router and compose closures: about 4 KB and 3 µs per request.
   */
  const direct = async (req: Request, env: AppEnv["Bindings"], route: ProxyRoute): Promise<Response> => {
    let rid: string | undefined;
    try {
      rid = idOf(req);
      const config = deps.runtime().config;
      let res: Response;
      try {
        res = await serveProxied(req, env, rid, clientIpOf(req, env, config), route, dispatch, openaiIntake);
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        res = errorResponse(error, rid);
      }
      finish(req, res, rid, config);
      return res;
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      return errorResponse(error, rid);
    }
  };
  return {
    hono: app,
    fetch: (req, info) => {
      const route = req.method === "POST" ? directRoute(req.url) : undefined;
      return route ? direct(req, info, route) : app.fetch(req, info);
    },
  };
}

/** The app: Hono, and its `fetch` (which serves the OpenAI endpoints without Hono's machinery). */
export interface GatewayApp {
  readonly hono: Hono<AppEnv>;
  readonly fetch: (req: Request, info: AppEnv["Bindings"]) => Response | Promise<Response>;
}

const DIRECT_ROUTES: ReadonlyMap<string, ProxyRoute> = new Map(PROXY_ROUTES.map((r) => [r.path, r]));

/**
 * The OpenAI route of `url`'s path, read as Hono reads it (from the first `/` after the scheme's
 * `://` to the `?`); a path with a `%` is Hono's to decode (no route has one).
 */
function directRoute(url: string): ProxyRoute | undefined {
  const start = url.indexOf("/", url.indexOf(":") + 4);
  const query = url.indexOf("?", start);
  return DIRECT_ROUTES.get(query === -1 ? url.slice(start) : url.slice(start, query));
}

/** `/v1/models`: models and visible aliases, narrowed to those a key may use. */
function modelsFor(rt: Runtime, key: ApiKeyConfig | undefined): unknown {
  return { object: "list", data: modelList(rt, key) };
}
