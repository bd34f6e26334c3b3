/**
 * The routes of the client dialects (`src/dialects/`): Anthropic's `POST /v1/messages` (and its
 * `count_tokens`), OpenAI's `POST /v1/responses`, Ollama's `POST /api/chat`, `/api/generate`,
 * `/api/embed` and `GET /api/tags`, `/api/ps`, `/api/version`. A translated request goes through
 * the same path as an OpenAI one (key, limits, balancing, failover, fallback, metrics); every
 * refusal on the way — no key, a bad body, an unknown model, a 429, an upstream error — leaves in
 * the dialect's own error shape. Only wiring lives here; the rules are in `proxy/`.
 *
 * @module
 */

import type { Hono } from "hono";
import type { Context } from "hono";
import type { ApiKeyConfig } from "../config/types.ts";
import {
  anthropicDialect,
  countTokens,
  type Dialect,
  DIALECTS,
  type ListedModel,
  ollamaChatDialect,
  ollamaPs,
  ollamaTags,
} from "../dialects/mod.ts";
import { GatewayError } from "../errors.ts";
import { requestId } from "../observe/trace.ts";
import { denialError } from "../proxy/access.ts";
import { modelAllowed } from "../proxy/api_keys.ts";
import { resolveModel } from "../proxy/catalogue.ts";
import { dialectCall } from "../proxy/dialect_call.ts";
import { dispatch } from "../proxy/dispatch.ts";
import type { Runtime } from "../proxy/runtime.ts";
import type { Clock, Random } from "../types.ts";
import type { AppEnv, Intake, ProxyHandler } from "./app.ts";
import { type BodyReader, duplicateModel } from "./body.ts";
import { hasDuplicateKey } from "./duplicate_key.ts";
import { modelList } from "./models.ts";
import { clientKey, refused } from "./route_auth.ts";
import type { ProxyRoute } from "./routes.ts";

/** The Ollama release whose API the `ollama` dialect follows (`GET /api/version` says it). */
export const OLLAMA_API_VERSION = "0.33.0";

/** How long `/api/ps` says a model stays loaded (Ollama's default `keep_alive`). */
const KEEP_ALIVE_MS = 5 * 60_000;

const COUNT_TOKENS = "/v1/messages/count_tokens";
const OLLAMA_LISTS = ["/api/tags", "/api/ps", "/api/version"];

/** Every path a dialect route answers; they check the client's key themselves, in their own shape. */
export const DIALECT_PATHS: ReadonlySet<string> = new Set([
  ...Object.values(DIALECTS).map((d) => d.route),
  COUNT_TOKENS,
  ...OLLAMA_LISTS,
]);

/** What the dialect routes need from the app. */
export interface DialectRouteDeps {
  readonly runtime: () => Runtime;
  readonly clock: Clock;
  readonly random: Random;
  /** The app's proxied-route helper (the same as for the OpenAI endpoints). */
  readonly proxy: ProxyHandler;
  /** Reads a whole body, bounded like every other (`body_guard.ts`). */
  readonly readBody: BodyReader;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** Mounts every dialect route on `app`. */
export function mountDialectRoutes(app: Hono<AppEnv>, deps: DialectRouteDeps): void {
  const env = { clock: deps.clock, randomId: () => requestId(deps.random) + requestId(deps.random) };
  for (const d of Object.values(DIALECTS)) {
    const route: ProxyRoute = { path: d.route, service: d.service, body: "json", dialect: d.name };
    const intake: Intake = async (req, _route, read) => {
      const bytes = await read(req);
      // A native backend gets these bytes: they must not name another model than the one checked.
      if (hasDuplicateKey(DECODER.decode(bytes), "model")) throw duplicateModel();
      const parsed = d.parseRequest(bytes, env);
      if (!parsed.ok) {
        throw new GatewayError(
          parsed.status,
          "invalid_request_error",
          "invalid_request",
          parsed.message,
          {},
          parsed.param ?? null,
        );
      }
      return {
        body: { kind: "json", bytes: ENCODER.encode(JSON.stringify(parsed.body)), value: parsed.body },
        model: parsed.model,
        stream: parsed.stream,
        service: parsed.service,
        route: parsed.route,
        dialect: dialectCall(d, parsed, bytes),
      };
    };
    app.post(d.route, (c) => shaped(d, c, () => deps.proxy(c, route, dispatch, intake)));
  }
  app.post(COUNT_TOKENS, (c) => shaped(anthropicDialect, c, () => countRoute(c, deps)));
  const listed = (c: Context<AppEnv>, live: boolean) =>
    listedModels(deps.runtime(), clientKey(c, deps.runtime().config.auth, deps.clock()), live);
  app.get(
    "/api/tags",
    (c) => shaped(ollamaChatDialect, c, () => c.json(ollamaTags(listed(c, false), deps.clock()))),
  );
  app.get(
    "/api/ps",
    (c) =>
      shaped(ollamaChatDialect, c, () => c.json(ollamaPs(listed(c, true), deps.clock() + KEEP_ALIVE_MS))),
  );
  app.get("/api/version", (c) =>
    shaped(ollamaChatDialect, c, () => {
      clientKey(c, deps.runtime().config.auth, deps.clock());
      return c.json({ version: OLLAMA_API_VERSION });
    }));
  // Any other method on these paths: 405 in the dialect's shape (not the OpenAI 404 of unknown URLs).
  const posts: [string, Dialect][] = [
    ...Object.values(DIALECTS).map((d) => [d.route, d] as [string, Dialect]),
  ];
  posts.push([COUNT_TOKENS, anthropicDialect]);
  for (const [path, d] of posts) app.on(OTHER_THAN_POST, path, (c) => notAllowed(d, c, "POST"));
  for (const path of OLLAMA_LISTS) {
    app.on(OTHER_THAN_GET, path, (c) => notAllowed(ollamaChatDialect, c, "GET, HEAD"));
  }
}

const OTHER_THAN_POST = ["GET", "PUT", "PATCH", "DELETE"];
const OTHER_THAN_GET = ["POST", "PUT", "PATCH", "DELETE"];

/** 405 with `Allow`, in the dialect's error shape. */
function notAllowed(d: Dialect, c: Context<AppEnv>, allow: string): Response {
  const res = dialectError(
    d,
    new GatewayError(
      405,
      "invalid_request_error",
      "method_not_allowed",
      `${c.req.method} ${c.req.path} is not served; use ${allow}.`,
    ),
    c.get("requestId"),
  );
  res.headers.set("allow", allow);
  return res;
}

/**
 * `count_tokens`, answered by the gateway (an estimate, see `anthropic_count.ts`), for a model
 * the client's key may use and some chat instance serves.
 */
async function countRoute(c: Context<AppEnv>, deps: DialectRouteDeps): Promise<Response> {
  c.set("logged", true); // answered here, not dispatched: every call gets its access-log line
  const rt = deps.runtime();
  const key = clientKey(c, rt.config.auth, deps.clock());
  const bytes = await deps.readBody(c.req.raw);
  const counted = countTokens(bytes);
  if (!counted.ok) {
    throw new GatewayError(counted.status, "invalid_request_error", "invalid_request", counted.message);
  }
  const model = String((JSON.parse(new TextDecoder().decode(bytes)) as { model: unknown }).model);
  const route = resolveModel(rt.services.chat.catalogue, model);
  if (key !== undefined && !modelAllowed(key, model) && !(route && modelAllowed(key, route.pool.name))) {
    throw refused(c, { allowed: false, reason: "model-forbidden" }, { service: "chat", model });
  }
  if (route === undefined) {
    throw denialError({
      allowed: false,
      reason: "unknown-model",
      available: [...rt.services.chat.pools.keys()],
    }, {
      service: "chat",
      model,
    });
  }
  return c.json(counted.body);
}

/** Ollama's lists: chat and embedding models the key may use (`live`: with a healthy instance). */
function listedModels(rt: Runtime, key: ApiKeyConfig | undefined, live: boolean): ListedModel[] {
  return modelList(rt, key)
    .filter((m) => m.services.some((s) => s === "chat" || s === "embedding"))
    .filter((m) => !live || isLive(rt, m.alias_of ?? m.id))
    .map((m) => ({ name: m.id }));
}

function isLive(rt: Runtime, model: string): boolean {
  return rt.upstreams.some((u) => u.model === model && u.health.healthy && u.breaker.canPass());
}

/**
 * Runs a dialect route: a thrown error becomes the dialect's error body (status and headers
 * kept: `Retry-After`, `WWW-Authenticate`), and an OpenAI-shaped error answer (an upstream 4xx,
 * a configured fallback) is reshaped the same way.
 */
async function shaped(
  d: Dialect,
  c: Context<AppEnv>,
  run: () => Response | Promise<Response>,
): Promise<Response> {
  try {
    const res = await run();
    return res.status >= 400 ? await reshape(d, res) : res;
  } catch (error) {
    return dialectError(d, error, c.get("requestId"));
  }
}

/** An error answer in OpenAI's shape, rewritten in the dialect's; other answers as they are. */
async function reshape(d: Dialect, res: Response): Promise<Response> {
  if (!/json/i.test(res.headers.get("content-type") ?? "")) return res;
  const text = await res.text();
  let message: unknown;
  try {
    message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
  } catch { /* not JSON after all */ }
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  if (typeof message !== "string") return new Response(text, { status: res.status, headers });
  headers.set("content-type", d.contentType);
  return new Response(JSON.stringify(d.errorBody(res.status, message)), { status: res.status, headers });
}

/** The dialect's error body for anything thrown (an unknown error is a 500 that leaks nothing). */
function dialectError(d: Dialect, error: unknown, rid: string): Response {
  const known = error instanceof GatewayError;
  const status = known ? error.status : 500;
  const message = known ? error.message : "Internal gateway error.";
  const headers = new Headers(known ? error.headers : {});
  headers.set("content-type", d.contentType);
  headers.set("x-request-id", rid);
  const body = d.errorBody(status, message, known ? error.param ?? undefined : undefined);
  return new Response(JSON.stringify(body), { status, headers });
}
