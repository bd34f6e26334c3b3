/**
 * Zod schemas of the configuration file, after key normalisation (camelCase, see `keys.ts`).
 * Every field is optional here: whether a value came from the file or from a default matters for
 * inheritance (service → global → built-in), which `resolve.ts` applies. Objects are strict so
 * unknown keys are found; the loader sorts them into typos (errors) and JAiRouter or Spring keys it
 * does not use (warnings), see `known_keys.ts`.
 *
 * Scalars are bound the way Spring binds them: `"8080"` is a number and `"true"` a boolean, which
 * also lets `${PORT:-8080}` placeholders feed numeric keys. Enum values are matched relaxed:
 * `TOKEN_BUCKET`, `tokenBucket` and `token-bucket` are the same.
 *
 * @module
 */

import { isIP } from "node:net";
import { z } from "zod";
import { parseExpectStatus } from "../health/expect_status.ts";
import { ADAPTER_NAMES, HASH_ALGORITHMS, STRATEGY_NAMES } from "../types.ts";
import { jairouterSchema } from "./jairouter_security.ts";
import { admin, auth } from "./schema_access.ts";
import { consoleBlock } from "./schema_console.ts";
import { bool, duration, int, num, oneOf, rateLimit, size, TOKEN, toText } from "./schema_common.ts";
import { SERVER_DEFAULTS } from "./defaults.ts";
import { describeValue } from "./units.ts";
import { instanceLoadSignals, loadSignalsBlock, prefixBlock } from "./signals.ts";
import { maxConcurrency, queueBlock } from "./queue.ts";
import { aliasesBlock, fallbacksBlock, nativeDialectsField, upstreamModelField } from "./catalogue.ts";
import { outlierBlock } from "./outlier.ts";

export { LIMIT_ALGORITHMS, LIMIT_SCOPES } from "./schema_common.ts";

/** Strategy names, hash algorithms and adapters: the lists live beside their types. */
export const STRATEGIES = STRATEGY_NAMES;
export { HASH_ALGORITHMS };
export const ADAPTERS = ADAPTER_NAMES;

const loadBalance = z.strictObject({
  type: oneOf(STRATEGIES),
  hashAlgorithm: oneOf(HASH_ALGORITHMS),
  hashKey: z.string().trim().refine(
    (v) => v === "client-ip" || v === "body:user" || /^header:/.test(v) && TOKEN.test(v.slice(7)),
    {
      error: (issue) =>
        `must be client-ip, body:user or header:<Name>, received ${describeValue(issue.input)}`,
    },
  ).optional(),
  loadFactor: num(z.number().min(1)),
  kvSaturation: num(z.number().gt(0).max(1)),
  prefix: prefixBlock.optional(),
});

const circuitBreaker = z.strictObject({
  enabled: bool(),
  failureThreshold: int(1),
  timeout: duration(0, false),
  successThreshold: int(1),
  halfOpenMaxCalls: int(1),
});

const fallback = z.strictObject({
  enabled: bool(),
  strategy: oneOf(["default", "cache"]),
  cacheSize: int(1),
  cacheTtl: duration(0, false),
  response: z.strictObject({ status: int(100, 599), body: z.unknown() }).optional(),
});

const timeouts = z.strictObject({
  connect: duration(0),
  firstByte: duration(0),
  idle: duration(0),
  total: duration(0),
});

const retry = z.strictObject({ maxAttempts: int(1), budget: duration(0) });

const healthCheck = z.strictObject({
  enabled: bool(),
  interval: duration(0, false),
  timeout: duration(0, false),
  type: oneOf(["http", "tcp", "none"]),
  path: z.string().trim().refine((v) => v.startsWith("/"), {
    error: (issue) => `must start with "/", received ${describeValue(issue.input)}`,
  }).optional(),
  method: z.preprocess(
    (v) => (typeof v === "string" ? v.trim().toUpperCase() : v),
    z.enum(["GET", "HEAD", "POST", "OPTIONS"]),
  ).optional(),
  expectStatus: z.unknown().transform((v, ctx) => {
    const r = parseExpectStatus(v);
    if (!r.ok) {
      ctx.issues.push({ code: "custom", message: r.error, input: v });
      return z.NEVER;
    }
    return r.value;
  }).optional(),
  healthyThreshold: int(1),
  unhealthyThreshold: int(1),
  passiveFailures: int(0),
});

const baseUrl = z.preprocess(
  (v) => (typeof v === "string" ? v.trim() : v),
  z.string().refine(isHttpUrl, {
    error: (issue) => `must be an http(s) URL, received ${describeValue(issue.input)}`,
  }),
);

const headers = z.record(
  z.string(),
  z.preprocess(toText, z.string().refine((v) => !/[\r\n\0]/.test(v), "must not contain line breaks")),
).superRefine((map, ctx) => {
  for (const name of Object.keys(map)) {
    if (!TOKEN.test(name)) {
      ctx.addIssue({ code: "custom", path: [name], message: "is not a valid HTTP header name" });
    }
  }
});

const instance = z.strictObject({
  name: z.preprocess(toText, z.string().trim().min(1)),
  baseUrl,
  path: z.string().trim().refine((v) => v === "" || v.startsWith("/"), {
    error: (issue) => `must start with "/", received ${describeValue(issue.input)}`,
  }).optional(),
  weight: num(z.number().min(0)),
  adapter: oneOf(ADAPTERS),
  apiKey: z.preprocess(toText, z.string()).optional(),
  headers: headers.optional(),
  enabled: bool(),
  rateLimit: rateLimit.optional(),
  // Probes of one service run in one round, so `interval` is a service (or global) key.
  healthCheck: healthCheck.omit({ interval: true }).optional(),
  loadSignals: instanceLoadSignals.optional(),
  maxConcurrency,
  // The model catalogue (catalogue.ts).
  upstreamModel: upstreamModelField.optional(),
  nativeDialects: nativeDialectsField.optional(),
  // JAiRouter: the instance's identity, and `status` (anything but "active" takes it out of rotation).
  instanceId: z.preprocess(toText, z.string().trim().min(1)).optional(),
  status: z.preprocess(toText, z.string().trim().min(1)).optional(),
});

/** The blocks that may be written globally, and per service to override the global ones. */
const policyShape = {
  loadBalance: loadBalance.optional(),
  adapter: oneOf(ADAPTERS),
  rateLimit: rateLimit.optional(),
  circuitBreaker: circuitBreaker.optional(),
  fallback: fallback.optional(),
  timeouts: timeouts.optional(),
  retry: retry.optional(),
  healthCheck: healthCheck.optional(),
  loadSignals: loadSignalsBlock.optional(),
  queue: queueBlock.optional(),
  outlierDetection: outlierBlock.optional(),
};

const service = z.strictObject({
  ...policyShape,
  fallbacks: fallbacksBlock.optional(),
  instances: z.array(instance).optional(),
});

const services = z.strictObject({
  ...policyShape,
  chat: service.optional(),
  embedding: service.optional(),
  rerank: service.optional(),
  tts: service.optional(),
  stt: service.optional(),
  imgGen: service.optional(),
  imgEdit: service.optional(),
});

const server = z.strictObject({
  host: z.string().trim().min(1).optional(),
  /** Spring Boot's name for the listen address. */
  address: z.string().trim().min(1).optional(),
  /** Spring Boot's TLS settings: DAiRouter serves plain HTTP, so TLS that is on cannot be honoured. */
  ssl: z.unknown().superRefine((v, ctx) => {
    const enabled = v !== null && typeof v === "object" ? (v as Record<string, unknown>).enabled : undefined;
    if (enabled === false || String(enabled).trim().toLowerCase() === "false") return;
    ctx.addIssue({
      code: "custom",
      message: "turns on TLS, which DAiRouter does not terminate: put a TLS proxy (nginx, Caddy) in front " +
        "and remove server.ssl (or set server.ssl.enabled: false)",
    });
  }).optional(),
  port: int(0, 65535),
  bodyLimit: size(),
  bodyIdleTimeout: duration(0, false),
  bodyTimeout: duration(0, false),
  maxPendingBodyBytes: size(),
  headerTimeout: duration(0),
  maxConnections: int(0),
  trustedProxies: z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : v),
    z.array(
      z.string().trim().refine(isIpOrCidr, {
        error: (issue) => `must be an IP address or CIDR, received ${describeValue(issue.input)}`,
      }),
    ),
  ).optional(),
  drainDelay: duration(0),
  shutdownTimeout: duration(0),
  workerStallTimeout: duration(0),
  workers: z.preprocess(
    (v) => (typeof v === "string" && v.trim().toLowerCase() === "auto" ? "auto" : v),
    z.union([
      z.literal("auto"),
      z.preprocess(
        (v) => (typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : v),
        z.number().int().min(1).max(256),
      ),
    ]),
  ).optional(),
}).superRefine((block, ctx) => {
  const limit = block.bodyLimit ?? SERVER_DEFAULTS.bodyLimit;
  if (block.maxPendingBodyBytes !== undefined && block.maxPendingBodyBytes < limit) {
    ctx.addIssue({
      code: "custom",
      path: ["maxPendingBodyBytes"],
      message: `must be at least server.body-limit (${limit} bytes), received ${block.maxPendingBodyBytes}`,
    });
  }
});

const log = z.strictObject({
  level: oneOf(["debug", "info", "warn", "error"]),
  format: oneOf(["json", "pretty"]),
  maxPendingBytes: size(),
});

const state = z.strictObject({
  backend: oneOf(["memory", "kv", "redis"]),
  path: z.string().trim().min(1).optional(),
  flushInterval: duration(0, false),
  url: z.string().trim().refine(isRedisUrl, {
    error: (issue) =>
      `must be a redis:// or rediss:// URL with a host, received ${describeValue(issue.input)}`,
  }).optional(),
  keyPrefix: z.string().min(1).max(64).optional(),
  timeout: duration(0, false),
  onUnavailable: oneOf(["local", "deny"]),
  replicas: int(1, 1024),
  shareInterval: duration(0, false),
}).superRefine((block, ctx) => {
  if (block.backend === "kv" && block.path === undefined) {
    ctx.addIssue({ code: "custom", path: ["path"], message: "is required when state.backend is kv" });
  }
  if (block.backend === "redis" && block.url === undefined) {
    ctx.addIssue({ code: "custom", path: ["url"], message: "is required when state.backend is redis" });
  }
});

/** The whole file. `model` is required: it is what makes a file a JAiRouter configuration. */
export const fileSchema = z.strictObject({
  model: z.strictObject({
    ...policyShape,
    aliases: aliasesBlock.optional(),
    fallbacks: fallbacksBlock.optional(),
    services: services.optional(),
  }),
  server: server.optional(),
  log: log.optional(),
  state: state.optional(),
  auth: auth.optional(),
  admin: admin.optional(),
  console: consoleBlock.optional(),
  jairouter: jairouterSchema.optional(),
});

type Out<T extends z.ZodType> = z.output<T>;
/** One validated `rate-limit` block as written (no defaults yet). */
export type RateLimitInput = Out<typeof rateLimit>;
/** One validated instance as written. */
export type InstanceInput = Out<typeof instance>;
/** One validated service block as written. */
export type ServiceInput = Out<typeof service>;
/** The policy blocks shared by the global level and each service. */
export type PolicyInput = Omit<ServiceInput, "instances">;
/** The `auth` block as written. */
export type AuthInput = Out<typeof auth>;
/** The `admin` block as written. */
export type AdminInput = Out<typeof admin>;
/** The validated file as written (no defaults yet). */
export type FileConfig = Out<typeof fileSchema>;

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

function isRedisUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname !== "";
}

function isIpOrCidr(value: string): boolean {
  const slash = value.indexOf("/");
  const address = slash < 0 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = value.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
