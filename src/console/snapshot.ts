/**
 * The console's messages, built from the live routing table and the traffic history: `hello` (sent
 * once per connection: version, redacted config, 15 minutes of history, recent problems) and
 * `tick` (sent every second to every console: per service → model → instance state and rates, the
 * last whole second's chart points, the problems since the previous tick). A tick is built once
 * and shared by every connected console.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { redactConfig } from "../config/redact.ts";
import type { Config } from "../config/types.ts";
import type { Runtime, Upstream } from "../proxy/runtime.ts";
import { upstreamOf } from "../proxy/upstream_index.ts";
import type { Clock, ServiceKind } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import type { RecentEvent } from "./recent.ts";
import type { ConsoleStats } from "./stats.ts";
import type { SeriesHistory, StatsRing } from "./stats_ring.ts";

/**
 * Engine load signals of one instance, when the gateway scrapes them (vLLM / llama.cpp / Ollama
 * metrics). Every field is optional: the console shows what it gets.
 */
export interface EngineLoad {
  /** Requests waiting in the engine's own queue. */
  readonly queueDepth?: number;
  /** KV-cache use in [0, 1]. */
  readonly kvCacheUsage?: number;
}

/** Where engine load signals come from (absent until the gateway has them). */
export type LoadSource = (u: Upstream) => EngineLoad | undefined;

/** Rates over the last `RATE_WINDOW_S` seconds; ratios and percentiles over `RATIO_WINDOW_S`. */
export const RATE_WINDOW_S = 10;
/** Window of the error ratio and the TTFT percentiles. */
export const RATIO_WINDOW_S = 60;

/** Rates of a series as the overview shows them. */
export interface Rates {
  /** Requests per second over the last {@linkcode RATE_WINDOW_S} seconds. */
  readonly rps: number;
  /** Output tokens per second over the last {@linkcode RATE_WINDOW_S} seconds. */
  readonly tokensPerS: number;
  /** 5xx / requests over the last {@linkcode RATIO_WINDOW_S} seconds; `null` without requests. */
  readonly errorRatio: number | null;
  readonly ttftP50?: number;
  readonly ttftP95?: number;
}

/** One configured instance (enabled or drained). */
export interface InstanceView extends Rates {
  readonly id: string;
  /** Index in the service's `instances` list (the admin API's `{ref}`). */
  readonly index: number;
  readonly model: string;
  /** Base URL and path, without credentials. */
  readonly url: string;
  readonly adapter: string;
  readonly weight: number;
  /** `false`: drained (`enabled: false` in the config); no traffic goes there. */
  readonly enabled: boolean;
  readonly healthy: boolean;
  readonly healthReason?: string;
  readonly breaker: "closed" | "open" | "half_open";
  readonly inFlight: number;
  /** Engine load signals, when known. */
  readonly load?: EngineLoad;
}

/** One service with instances. */
export interface ServiceView extends Rates {
  readonly kind: ServiceKind;
  readonly status: "up" | "degraded" | "down";
  readonly strategy: string;
  readonly models: { readonly name: string; readonly instances: InstanceView[] }[];
}

/** A chart point: `[requests, errors, ttftP95 ms | null, tokens]` of one second. */
export type Point = [number, number, number | null, number];

/** The configuration's identity: SHA-256 prefix of the redacted config (secrets never influence it). */
export interface Revision {
  readonly hash: string;
  /** When the console first saw this configuration (ms since the epoch). */
  readonly since: number;
}

/** The gateway process as the page shows it (the serving worker's loop, with `server.workers`). */
export interface ProcessView {
  /** Resident memory of the process, bytes. */
  readonly rssBytes: number;
  /** The longest the event loop ran a timer late in the last 10 s, ms. */
  readonly lagMs: number;
}

/** Sent every second. */
export interface TickMessage {
  /** The epoch second the points belong to (the last whole second). */
  readonly sec: number;
  readonly uptimeS: number;
  /** Memory and event-loop lag, when the console was given a source. */
  readonly process?: ProcessView;
  readonly revision: Revision;
  readonly services: ServiceView[];
  readonly points: { services: Record<string, Point>; instances: Record<string, Point> };
  /** Problems recorded since the previous tick. */
  readonly recent: RecentEvent[];
}

/** Sent once when a console connects. */
export interface HelloMessage {
  readonly version: string;
  readonly startedAt: number;
  /** `admin`: the token was given, actions are possible. `read`: `public-read` without a token. */
  readonly access: "admin" | "read";
  /** The admin API's prefix on this listener, when actions are possible. */
  readonly adminPath?: string;
  readonly revision: Revision;
  /** The effective configuration, secrets redacted. */
  readonly config: unknown;
  readonly windows: { readonly rateS: number; readonly ratioS: number };
  readonly history: { services: Record<string, SeriesHistory>; instances: Record<string, SeriesHistory> };
  readonly recent: RecentEvent[];
  /** The tick of the current second, so the page has something to show at once. */
  readonly tick: TickMessage;
}

/** Dependencies of {@linkcode createSnapshots}. */
export interface SnapshotDeps {
  readonly clock: Clock;
  readonly version: string;
  readonly startedAt: number;
  readonly stats: ConsoleStats;
  readonly loadOf?: LoadSource;
  readonly process?: () => ProcessView;
}

/** Builds the console's messages. */
export interface Snapshots {
  hello(rt: Runtime, access: "admin" | "read", adminPath: string | undefined): HelloMessage;
  /** The tick for the current second; `recentAfter` is the last event the consoles have. */
  tick(rt: Runtime, recentAfter: number): TickMessage;
}

// Up to the last `@` of the authority, as URL parsers read it (`http://a:b@c@host` → `host`).
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/?#\\\s]*@/gi;

/** Removes credentials from URLs inside a text (probe errors quote the URL they failed on). */
export function withoutCredentials(text: string): string {
  return text.replace(USERINFO, "$1");
}

function rates(ring: StatsRing, key: string): Rates {
  const fast = ring.window(key, RATE_WINDOW_S);
  const slow = ring.window(key, RATIO_WINDOW_S);
  return {
    rps: fast.requests / RATE_WINDOW_S,
    tokensPerS: fast.tokens / RATE_WINDOW_S,
    errorRatio: slow.requests === 0 ? null : slow.errors / slow.requests,
    ...(slow.ttftP50 !== undefined ? { ttftP50: Math.round(slow.ttftP50) } : {}),
    ...(slow.ttftP95 !== undefined ? { ttftP95: Math.round(slow.ttftP95) } : {}),
  };
}

/** Creates the message builder. */
export function createSnapshots(deps: SnapshotDeps): Snapshots {
  const revisions = new WeakMap<Config, { revision: Revision; shown: unknown }>();
  const seen = (config: Config) => {
    let r = revisions.get(config);
    if (!r) {
      const shown = redactConfig(config);
      const hash = createHash("sha256").update(JSON.stringify(shown)).digest("hex").slice(0, 12);
      r = { revision: { hash, since: deps.clock() }, shown };
      revisions.set(config, r);
      // A reload drops the series of removed instances: the ring holds configured ones only.
      const ids = new Set(SERVICE_KINDS.flatMap((k) => config.services[k].instances.map((i) => i.id)));
      deps.stats.instances.retain(ids);
    }
    return r;
  };

  const instanceView = (rt: Runtime, kind: ServiceKind, index: number): InstanceView => {
    const inst = rt.config.services[kind].instances[index];
    const live = inst.enabled ? upstreamOf(rt, inst.id) : undefined;
    const health = live?.health.snapshot();
    const load = live && deps.loadOf?.(live);
    return {
      id: inst.id,
      index,
      model: inst.name,
      url: withoutCredentials(`${inst.baseUrl}${inst.path ?? ""}`),
      adapter: inst.adapter,
      weight: inst.weight,
      enabled: inst.enabled,
      healthy: health?.healthy ?? false,
      ...(health ? { healthReason: withoutCredentials(health.reason) } : {}),
      breaker: live?.breaker.state ?? "closed",
      inFlight: live?.stats.inFlight ?? 0,
      ...rates(deps.stats.instances, inst.id),
      ...(load ? { load } : {}),
    };
  };

  const serviceView = (rt: Runtime, kind: ServiceKind): ServiceView => {
    const svc = rt.config.services[kind];
    const models = new Map<string, InstanceView[]>();
    svc.instances.forEach((inst, index) => {
      const list = models.get(inst.name) ?? [];
      list.push(instanceView(rt, kind, index));
      models.set(inst.name, list);
    });
    const all = [...models.values()].flat();
    const up = all.filter((i) => i.enabled && i.healthy && i.breaker !== "open").length;
    return {
      kind,
      status: up === 0 ? "down" : up < all.length ? "degraded" : "up",
      strategy: svc.loadBalance.type,
      ...rates(deps.stats.services, kind),
      models: [...models].map(([name, instances]) => ({ name, instances })),
    };
  };

  const configured = (rt: Runtime) => SERVICE_KINDS.filter((k) => rt.config.services[k].instances.length > 0);

  const tick = (rt: Runtime, recentAfter: number): TickMessage => {
    const now = deps.clock();
    const sec = Math.floor(now / 1000) - 1;
    const points: TickMessage["points"] = { services: {}, instances: {} };
    for (
      const [ring, out] of [
        [deps.stats.services, points.services],
        [deps.stats.instances, points.instances],
      ] as const
    ) {
      for (const key of ring.keys()) {
        const p = ring.point(key, sec);
        // Empty seconds are left out: the page fills them with zeros.
        if (p && p[0] > 0) out[key] = p;
      }
    }
    return {
      sec,
      uptimeS: Math.max(0, Math.floor((now - deps.startedAt) / 1000)),
      ...(deps.process ? { process: deps.process() } : {}),
      revision: seen(rt.config).revision,
      services: configured(rt).map((k) => serviceView(rt, k)),
      points,
      recent: deps.stats.recent.since(recentAfter),
    };
  };

  return {
    tick,
    hello(rt, access, adminPath) {
      const { revision, shown } = seen(rt.config);
      const history: HelloMessage["history"] = { services: {}, instances: {} };
      for (const key of deps.stats.services.keys()) history.services[key] = deps.stats.services.history(key)!;
      for (const key of deps.stats.instances.keys()) {
        history.instances[key] = deps.stats.instances.history(key)!;
      }
      return {
        version: deps.version,
        startedAt: deps.startedAt,
        access,
        ...(adminPath !== undefined ? { adminPath } : {}),
        revision,
        config: shown,
        windows: { rateS: RATE_WINDOW_S, ratioS: RATIO_WINDOW_S },
        history,
        recent: deps.stats.recent.since(0),
        tick: tick(rt, deps.stats.recent.last),
      };
    },
  };
}
