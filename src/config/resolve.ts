/**
 * From the validated file (as written) to the `Config` the gateway runs on: global defaults applied
 * to every service, instances given stable ids, duplicates reported.
 *
 * @module
 */

import { SERVICE_KINDS, type ServiceKind } from "../types.ts";
import { type ReadFile, resolveAccess } from "./access.ts";
import { userinfoOf, withoutUserinfo } from "./base_url.ts";
import { DEFAULT_ADAPTER, LOG_DEFAULTS, SERVER_DEFAULTS, STATE_DEFAULTS } from "./defaults.ts";
import type { PathSegment } from "./keys.ts";
import type { Origins } from "./origins.ts";
import { implicitEnabledWarnings } from "./implicit_enabled.ts";
import {
  type Levels,
  resolveBreaker,
  resolveFallback,
  resolveHealth,
  resolveLoadBalance,
  resolveRateLimit,
  resolveRetry,
  resolveTimeouts,
} from "./policy.ts";
import type { Problem, Warning } from "./problem.ts";
import { resolveConsole } from "./schema_console.ts";
import {
  checkNativeDialects,
  instanceCatalogue,
  mergeFallbacks,
  resolveAliases,
  resolveFallbacks,
  servedModels,
} from "./catalogue.ts";
import { resolveLoadSignals } from "./signals.ts";
import { resolveQueue } from "./queue.ts";
import { resolveOutlier } from "./outlier.ts";
import type { FileConfig, PolicyInput, RateLimitInput, ServiceInput } from "./schema.ts";
import type { Config, InstanceConfig, ServiceConfig } from "./types.ts";

/** The resolved configuration and the non-fatal findings made on the way. */
export interface Resolved {
  /** The configuration, defaults applied, not yet frozen. */
  readonly config: Config;
  /** Duplicate instances, key `models` that no instance serves. */
  readonly warnings: Warning[];
  /** Findings that make the config unusable (unreadable key files, duplicate keys). */
  readonly problems: Problem[];
}

/**
 * Builds the `Config`. `origins` supplies instance lines and the wording of duplicate warnings;
 * `readFile` reads `key-file`s. The result is not yet frozen.
 */
export function resolveConfig(
  file: FileConfig,
  source: string,
  origins: Origins,
  readFile?: ReadFile,
): Resolved {
  const warnings: Warning[] = [];
  const model = file.model;
  const servicesBlock = model.services;
  // `model.services.load-balance` (and friends) is the seed's other spelling of a global block.
  const globals: Levels = [model, servicesBlock];

  const globalLimit: RateLimitInput | undefined = model.rateLimit ?? servicesBlock?.rateLimit;
  const isGatewayWide = globalLimit?.scope === "global";
  const globalRateLimit = isGatewayWide ? resolveRateLimit(globalLimit, "global") : undefined;
  const serviceDefaultLimit = isGatewayWide ? undefined : globalLimit;

  const services = {} as Record<ServiceKind, ServiceConfig>;
  const problems: Problem[] = [];
  const ids = new Map<string, readonly PathSegment[]>();
  for (const kind of SERVICE_KINDS) {
    const block: ServiceInput | undefined = servicesBlock?.[kind];
    const levels: Levels = [block, ...globals];
    const adapter = first(levels) ?? DEFAULT_ADAPTER;
    const loadBalance = resolveLoadBalance(levels);
    services[kind] = {
      kind,
      loadBalance,
      adapter,
      ...optional("rateLimit", resolveRateLimit(block?.rateLimit ?? serviceDefaultLimit, "service")),
      circuitBreaker: resolveBreaker(levels),
      fallback: resolveFallback(levels),
      timeouts: resolveTimeouts(levels, kind),
      retry: resolveRetry(levels),
      health: resolveHealth(levels),
      loadSignals: resolveLoadSignals(levels.map((l) => l?.loadSignals), loadBalance.type),
      queue: resolveQueue(levels.map((l) => l?.queue)),
      outlier: resolveOutlier(levels.map((l) => l?.outlierDetection)),
      fallbacks: [],
      instances: resolveInstances(kind, block, levels, adapter, origins, { warnings, problems, ids }),
    };
  }

  warnings.push(...implicitEnabledWarnings(file));
  const catalogue = resolveCatalogue(file, services);
  warnings.push(...catalogue.warnings);
  const access = resolveAccess(file, services, origins, readFile);
  warnings.push(...access.warnings);
  problems.push(...access.problems);
  const ui = resolveConsole(file.console, access.admin);
  const server = file.server ?? {};
  const log = file.log ?? {};
  const state = file.state ?? {};
  const config: Config = {
    source,
    server: {
      host: server.host ?? server.address ?? SERVER_DEFAULTS.host,
      port: server.port ?? SERVER_DEFAULTS.port,
      bodyLimit: server.bodyLimit ?? SERVER_DEFAULTS.bodyLimit,
      bodyIdleTimeoutMs: server.bodyIdleTimeout ?? SERVER_DEFAULTS.bodyIdleTimeoutMs,
      bodyTimeoutMs: server.bodyTimeout ?? SERVER_DEFAULTS.bodyTimeoutMs,
      // Never below the body limit, or one large upload could never be taken.
      maxPendingBodyBytes: server.maxPendingBodyBytes ??
        Math.max(SERVER_DEFAULTS.maxPendingBodyBytes, server.bodyLimit ?? 0),
      headerTimeoutMs: server.headerTimeout ?? SERVER_DEFAULTS.headerTimeoutMs,
      maxConnections: server.maxConnections ?? SERVER_DEFAULTS.maxConnections,
      trustedProxies: server.trustedProxies ?? SERVER_DEFAULTS.trustedProxies,
      drainDelayMs: server.drainDelay ?? SERVER_DEFAULTS.drainDelayMs,
      shutdownTimeoutMs: server.shutdownTimeout ?? SERVER_DEFAULTS.shutdownTimeoutMs,
      workers: server.workers ?? SERVER_DEFAULTS.workers,
      workerStallTimeoutMs: server.workerStallTimeout ?? SERVER_DEFAULTS.workerStallTimeoutMs,
    },
    log: {
      level: log.level ?? LOG_DEFAULTS.level,
      format: log.format ?? LOG_DEFAULTS.format,
      maxPendingBytes: log.maxPendingBytes ?? LOG_DEFAULTS.maxPendingBytes,
    },
    state: {
      backend: state.backend ?? STATE_DEFAULTS.backend,
      ...(state.path !== undefined ? { path: state.path } : {}),
      flushIntervalMs: state.flushInterval ?? STATE_DEFAULTS.flushIntervalMs,
      ...(state.url !== undefined ? { url: state.url } : {}),
      keyPrefix: state.keyPrefix ?? STATE_DEFAULTS.keyPrefix,
      timeoutMs: state.timeout ?? STATE_DEFAULTS.timeoutMs,
      onUnavailable: state.onUnavailable ?? STATE_DEFAULTS.onUnavailable,
      replicas: state.replicas ?? STATE_DEFAULTS.replicas,
      shareIntervalMs: state.shareInterval ?? STATE_DEFAULTS.shareIntervalMs,
    },
    ...(globalRateLimit ? { globalRateLimit } : {}),
    services,
    auth: access.auth,
    admin: access.admin,
    console: ui.console,
    catalogue: { aliases: catalogue.aliases },
  };
  if (server.host !== undefined && server.address !== undefined && server.host !== server.address) {
    problems.push({
      path: ["server", "address"],
      message: `says ${server.address}, but server.host says ${server.host}: keep one`,
    });
  }
  problems.push(...catalogue.problems, ...ui.problems);
  return { config, warnings, problems };
}

/** `{ [key]: value }` when the value is defined, else `{}`: optional keys stay absent, not `undefined`. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function first(levels: Levels): PolicyInput["adapter"] {
  return levels.find((l) => l?.adapter !== undefined)?.adapter;
}

/** Findings of instance resolution, and the ids taken so far (they must be unique in the config). */
interface InstanceFindings {
  readonly warnings: Warning[];
  readonly problems: Problem[];
  readonly ids: Map<string, readonly PathSegment[]>;
}

function resolveInstances(
  kind: ServiceKind,
  block: ServiceInput | undefined,
  levels: Levels,
  serviceAdapter: InstanceConfig["adapter"],
  origins: Origins,
  { warnings, problems, ids }: InstanceFindings,
): InstanceConfig[] {
  const seen = new Map<string, { index: number; count: number }>();
  return (block?.instances ?? []).map((inst, index) => {
    const path = ["model", "services", kind, "instances", index];
    const baseUrl = inst.baseUrl.replace(/\/+$/, "");
    const instPath = inst.path === undefined || inst.path === "" ? undefined : inst.path;
    // Ids end up in logs and metric labels: never with the credentials a URL may carry.
    const publicUrl = withoutUserinfo(baseUrl);
    const triple = `${kind}/${inst.name}@${publicUrl}${instPath ?? ""}`;
    const earlier = inst.instanceId === undefined ? seen.get(triple) : undefined;
    // JAiRouter's `instance-id` is the instance's identity: state, metrics and the admin API use it.
    let id = inst.instanceId ?? triple;
    if (earlier) {
      earlier.count += 1;
      id = `${triple}#${earlier.count}`;
      const first = origins.locate([...path.slice(0, -1), earlier.index]);
      warnings.push({
        kind: "duplicate-instance",
        path,
        message: `has the same name, base-url and path as ${first.written}` +
          `${first.line ? ` on line ${first.line}` : ""}; both are kept, this one as ${JSON.stringify(id)}`,
      });
    } else if (inst.instanceId === undefined) {
      seen.set(triple, { index, count: 1 });
    }
    const taken = ids.get(id);
    if (taken) {
      const other = origins.locate(taken);
      problems.push({
        path: [...path, ...(inst.instanceId !== undefined ? ["instanceId"] : [])],
        message: `has the id ${JSON.stringify(id)}, already the id of ${other.written}` +
          `${other.line ? ` on line ${other.line}` : ""}${
            other.file ? ` of ${other.file}` : ""
          }; ids must be unique`,
      });
    }
    ids.set(id, path);
    const overridden = credentialOverridden(inst);
    if (overridden) {
      warnings.push({
        kind: "credentials",
        path: [...path, "baseUrl"],
        message: `carries credentials (user:password@), but the instance's ${overridden} is sent instead`,
      });
    }
    const rateLimit = resolveRateLimit(inst.rateLimit, "instance");
    const line = origins.locate(path).line;
    return {
      name: inst.name,
      baseUrl,
      ...(instPath !== undefined ? { path: instPath } : {}),
      weight: inst.weight ?? 1,
      adapter: inst.adapter ?? serviceAdapter,
      ...(inst.apiKey !== undefined && inst.apiKey !== "" ? { apiKey: inst.apiKey } : {}),
      headers: inst.headers ?? {},
      ...(rateLimit ? { rateLimit } : {}),
      enabled: (inst.enabled ?? true) &&
        (inst.status === undefined || inst.status.toLowerCase() === "active"),
      health: resolveHealth([{ healthCheck: inst.healthCheck }, ...levels]),
      ...(inst.loadSignals ? { loadSignals: inst.loadSignals } : {}),
      ...(inst.maxConcurrency !== undefined ? { maxConcurrency: inst.maxConcurrency } : {}),
      ...instanceCatalogue(inst),
      id,
      ...(line !== undefined ? { line } : {}),
    };
  });
}

/**
 * Which credential of its own (`api-key`, an `authorization` header) an instance sends instead of
 * the userinfo of its base URL — `undefined` when the URL has none, or nothing overrides it.
 */
function credentialOverridden(inst: NonNullable<ServiceInput["instances"]>[number]): string | undefined {
  if (userinfoOf(inst.baseUrl) === undefined) return undefined;
  if (inst.apiKey !== undefined && inst.apiKey !== "") return "api-key";
  const header = Object.keys(inst.headers ?? {}).find((h) => h.toLowerCase() === "authorization");
  return header === undefined ? undefined : `${header} header`;
}

/**
 * The catalogue (`catalogue.ts`): aliases checked against the served models, each service's
 * fallback chains (its own over the global ones), instances' `native-dialects` against their
 * adapters. Fills `services[kind].fallbacks` in place.
 */
function resolveCatalogue(file: FileConfig, services: Record<ServiceKind, ServiceConfig>) {
  const problems: Problem[] = [];
  const warnings: Warning[] = [];
  const models = servedModels(services);
  const aliases = resolveAliases(file.model.aliases, models, problems, warnings);
  const known = new Set([...models, ...aliases.filter((a) => !a.pattern).map((a) => a.name)]);
  const global = resolveFallbacks(file.model.fallbacks, ["model", "fallbacks"], known, problems, warnings);
  for (const kind of SERVICE_KINDS) {
    const at = ["model", "services", kind, "fallbacks"];
    const own = resolveFallbacks(file.model.services?.[kind]?.fallbacks, at, known, problems, warnings);
    services[kind] = { ...services[kind], fallbacks: mergeFallbacks(own, global) };
    checkNativeDialects(kind, services[kind].instances, problems);
  }
  return { aliases, problems, warnings };
}
