/**
 * `createApp(deps)`: the Hono application. It only wires routes — request id, client IP, body
 * limits, trace context — and hands the parsed request to `proxy/dispatch.ts`, where the rules
 * live. Every error leaves through one `onError` as OpenAI-shaped JSON.
 *
 * @module
 */

import { Hono } from "hono";
import type { Config } from "../config/types.ts";
import { errorResponse, type GatewayError, NotFoundError } from "../errors.ts";
import { createTraceContext, formatTraceparent, parseTraceparent, requestId } from "../observe/trace.ts";
import { dispatch, type DispatchDeps } from "../proxy/dispatch.ts";
import { forwardRequestHeaders } from "../proxy/headers.ts";
import type { Runtime } from "../proxy/runtime.ts";
import type { Clock, Random } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import { readRequestBody } from "./body.ts";
import { createTrustMatcher, resolveClientIp } from "./client_ip.ts";
import { PROXY_ROUTES, type ProxyRoute, STATUS_ROUTES } from "./routes.ts";
import { modelList, serviceStatus } from "./status.ts";

/** What the app needs from the composition root. */
export interface AppDeps {
  /** The current routing table (swapped atomically on reload). */
  readonly runtime: () => Runtime;
  readonly dispatch: DispatchDeps;
  readonly clock: Clock;
  readonly random: Random;
  /** Prometheus exposition, when metrics are on. */
  readonly metrics?: { render(): Promise<string>; readonly contentType: string };
  /** False while starting or draining (`/readyz` answers 503). */
  readonly ready?: () => boolean;
  /** Extra routes mounted by later layers (admin API, auth). */
  readonly extend?: (app: Hono<AppEnv>) => void;
}

/** Hono environment: `c.env` is Deno's connection info; `requestId` is set per request. */
export type AppEnv = {
  Bindings: Partial<Deno.ServeHandlerInfo<Deno.NetAddr>>;
  Variables: { requestId: string; clientIp: string };
};

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

/**
 * Builds the gateway application.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    c.set("requestId", incoming && REQUEST_ID.test(incoming) ? incoming : requestId(deps.random));
    const peer = c.env?.remoteAddr?.hostname ?? "127.0.0.1";
    const config = deps.runtime().config;
    c.set("clientIp", resolveClientIp(peer, c.req.header("x-forwarded-for") ?? null, trustFor(config)));
    await next();
    if (!c.res.headers.has("x-request-id")) c.res.headers.set("x-request-id", c.get("requestId"));
  });

  const proxy = async (c: import("hono").Context<AppEnv>, route: ProxyRoute) => {
    const rt = deps.runtime();
    const receivedAt = deps.clock();
    const req = c.req.raw;
    const rid = c.get("requestId");
    const clientIp = c.get("clientIp");
    const parent = parseTraceparent(req.headers.get("traceparent"));
    const trace = createTraceContext(parent, deps.random);
    let parsed;
    try {
      parsed = await readRequestBody(req, route.body, rt.config.server.bodyLimit);
    } catch (error) {
      // Rejected before routing: still one access-log line.
      deps.dispatch.observer.access({
        requestId: rid,
        traceId: trace.traceId,
        clientIp,
        method: req.method,
        route: route.path,
        service: route.service,
        status: (error as GatewayError).status ?? 500,
        durationMs: deps.clock() - receivedAt,
        stream: false,
        retries: 0,
        error: (error as GatewayError).code ?? "internal_error",
      });
      throw error;
    }
    const peer = c.env?.remoteAddr?.hostname ?? "127.0.0.1";
    const trusted = trustFor(rt.config)(peer);
    const forwardHeaders = forwardRequestHeaders(req.headers, {
      clientIp: peer,
      forwardedFor: trusted ? req.headers.get("x-forwarded-for") : null,
      requestId: rid,
      traceparent: formatTraceparent(trace),
      dropClientAuth: false,
      proto: new URL(req.url).protocol.replace(":", ""),
    });
    return await dispatch(rt, deps.dispatch, {
      service: route.service,
      route: route.path,
      method: req.method,
      model: parsed.model,
      stream: parsed.stream,
      body: parsed.body,
      clientIp,
      requestId: rid,
      traceId: trace.traceId,
      clientHeaders: req.headers,
      forwardHeaders,
      signal: req.signal,
      receivedAt,
    });
  };
  for (const route of PROXY_ROUTES) app.post(route.path, (c) => proxy(c, route));

  app.get("/v1/models", (c) => c.json(modelList(deps.runtime())));
  for (const kind of SERVICE_KINDS) {
    app.get(STATUS_ROUTES[kind], (c) => c.json(serviceStatus(deps.runtime(), kind)));
  }
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const ready = deps.ready ? deps.ready() : true;
    return c.json({ status: ready ? "ready" : "draining" }, ready ? 200 : 503);
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
  return app;
}
