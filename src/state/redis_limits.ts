/**
 * The Redis {@linkcode LimitBackend}: every check of a request goes to Redis in one `EVALSHA`
 * of {@linkcode LIMITS_LUA}, decided atomically on Redis server time, so N replicas share one
 * count per limiter key and the configured limit holds for the cluster exactly.
 *
 * Key layout (under `state.key-prefix`): `rl:<limiter name>:<config tag>:<key>` holds a state,
 * `rl:<limiter name>:<config tag>:~ws` the warm-up start (only with warm-up). The config tag is
 * a digest of the limiter's block, so a changed limit starts from fresh state — as a reload does
 * in memory — and every key, the warm-up start included, expires once the limiter is idle, so
 * keys of old configs do not pile up.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { LimitBackend, LimitCheck, LimitVerdict } from "../limiter/backend.ts";
import type { Decision, LimitAlgorithm, RateLimitConfig } from "../types.ts";
import { LIMITS_LUA } from "./redis_limits_lua.ts";
import { luaScript, type RedisLink } from "./redis_link.ts";

/** Options of {@linkcode createRedisLimits}. */
export interface RedisLimitsOptions {
  readonly link: RedisLink;
  /** Prefix of every key (`state.key-prefix`). */
  readonly keyPrefix: string;
  /** Tests only: decide at this time instead of Redis `TIME`. */
  readonly now?: () => number;
}

const ALG: Readonly<Record<LimitAlgorithm, string>> = {
  "token-bucket": "1",
  "leaky-bucket": "2",
  "sliding-window": "3",
  "fixed-window": "4",
};

/** What a config contributes to every call, computed once per config object. */
interface Prepared {
  readonly tag: string;
  /** alg, capacity, rate, windowMs, period, fraction (cost and ttl follow per call). */
  readonly head: readonly string[];
  readonly ttl: string;
  /** Whether the script touches the warm-up start key. */
  readonly warm: boolean;
  /** Key bases by limiter name: `<prefix>rl:<name>:<tag>:` (built once, not per request). */
  readonly bases: Map<string, string>;
}

function prepare(c: RateLimitConfig): Prepared {
  const tag = createHash("sha1").update(JSON.stringify([
    c.algorithm,
    c.capacity,
    c.rate,
    c.windowMs,
    c.warmUp ?? null,
  ])).digest("hex").slice(0, 10);
  const period = c.warmUp?.periodMs ?? 0;
  const bucket = c.algorithm === "token-bucket" || c.algorithm === "leaky-bucket";
  // Back to a fresh state by then: full bucket / empty window, and past any warm-up.
  const idleMs = (bucket ? Math.ceil(c.capacity / c.rate * 1000) : c.windowMs) + period + 1000;
  return {
    tag,
    head: [
      ALG[c.algorithm],
      String(c.capacity),
      String(bucket ? c.rate : 1),
      String(c.windowMs),
      String(period),
      String(c.warmUp?.initialFraction ?? 1),
    ],
    ttl: String(Math.min(idleMs, 2 ** 31)),
    warm: period > 0,
    bases: new Map(),
  };
}

function number(text: unknown): number {
  return text === "inf" ? Infinity : Number(text);
}

function decision(raw: unknown): Decision {
  const r = raw as [number, string, string, string, string];
  return {
    allowed: r[0] === 1,
    retryAfterMs: number(r[1]),
    limit: number(r[2]),
    remaining: number(r[3]),
    resetMs: number(r[4]),
  };
}

const ONE = "1";
/** Arguments per check after its keys (see the call layout in `redis_limits_lua.ts`). */
const ARGS_PER_CHECK = 8;

/**
 * Creates the Redis limit backend on a link. Calls reject while the link is down or past its
 * deadline; the caller (the cluster limits of `src/cluster/`) decides what then happens.
 */
export function createRedisLimits(options: RedisLimitsOptions): LimitBackend {
  const { link, keyPrefix, now } = options;
  const script = luaScript(LIMITS_LUA);
  const prepared = new WeakMap<RateLimitConfig, Prepared>();
  const prep = (c: RateLimitConfig): Prepared => {
    let p = prepared.get(c);
    if (p === undefined) prepared.set(c, p = prepare(c));
    return p;
  };
  const baseOf = (p: Prepared, name: string): string => {
    let base = p.bases.get(name);
    if (base === undefined) p.bases.set(name, base = `${keyPrefix}rl:${name}:${p.tag}:`);
    return base;
  };

  /** The whole command in one array, filled in place (no spread, no intermediate lists). */
  const call = (op: string, checks: readonly LimitCheck[], at: string): Promise<unknown> => {
    const n = checks.length;
    const cmd = new Array<string>(3 + 2 * n + 4 + ARGS_PER_CHECK * n);
    cmd[0] = "EVALSHA";
    cmd[1] = script.sha;
    cmd[2] = String(2 * n);
    let k = 3;
    let a = 3 + 2 * n;
    cmd[a++] = now === undefined ? "" : String(now());
    cmd[a++] = op;
    cmd[a++] = String(n);
    cmd[a++] = at;
    for (let i = 0; i < n; i++) {
      const c = checks[i];
      const p = prep(c.config);
      const base = baseOf(p, c.name);
      cmd[k++] = base + c.key;
      cmd[k++] = p.warm ? base + "~ws" : base;
      const head = p.head;
      for (let j = 0; j < head.length; j++) cmd[a++] = head[j];
      cmd[a++] = c.cost === undefined || c.cost === 1 ? ONE : String(c.cost);
      cmd[a++] = p.ttl;
    }
    return link.runScript(script, cmd);
  };

  return {
    async decide(checks): Promise<LimitVerdict> {
      if (checks.length === 0) return { denied: -1, decisions: [], at: now?.() ?? 0 };
      const reply = await call("take", checks, "") as unknown[];
      const decisions = new Array<Decision>(reply.length - 2);
      for (let i = 2; i < reply.length; i++) decisions[i - 2] = decision(reply[i]);
      return { denied: Number(reply[0]) - 1, decisions, at: number(reply[1]) };
    },
    async adjust(checks, at) {
      if (checks.length > 0) await call("adjust", checks, String(at));
    },
    async rewarm(checks) {
      if (checks.length > 0) await call("rewarm", checks, "");
    },
  };
}
