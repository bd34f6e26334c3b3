/**
 * The Redis {@linkcode LimitBackend}: every check of a request goes to Redis in one `EVALSHA`
 * of {@linkcode LIMITS_LUA}, decided atomically on Redis server time, so N replicas share one
 * count per limiter key and the configured limit holds for the cluster exactly.
 *
 * Key layout (under `state.key-prefix`): `rl:<limiter name>:<config tag>:<key>` holds a state,
 * `rl:<limiter name>:<config tag>:~ws` the warm-up start. The config tag is a digest of the
 * limiter's block, so a changed limit starts from fresh state — as a reload does in memory.
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

/**
 * Creates the Redis limit backend on a link. Calls reject while the link is down or past its
 * deadline; the caller (the cluster limits of `src/cluster/`) decides what then happens.
 */
export async function createRedisLimits(options: RedisLimitsOptions): Promise<LimitBackend> {
  const { link, keyPrefix, now } = options;
  const script = await luaScript(LIMITS_LUA);
  const prepared = new WeakMap<RateLimitConfig, Prepared>();
  const prep = (c: RateLimitConfig): Prepared => {
    let p = prepared.get(c);
    if (p === undefined) prepared.set(c, p = prepare(c));
    return p;
  };

  const call = (op: string, checks: readonly LimitCheck[]): Promise<unknown> => {
    const keys: string[] = [];
    const args: string[] = [now === undefined ? "" : String(now()), op, String(checks.length)];
    for (const c of checks) {
      const p = prep(c.config);
      const base = `${keyPrefix}rl:${c.name}:${p.tag}:`;
      keys.push(base + c.key, base + "~ws");
      args.push(...p.head, String(c.cost ?? 1), p.ttl);
    }
    return link.evalScript(script, keys, args);
  };

  return {
    async decide(checks): Promise<LimitVerdict> {
      if (checks.length === 0) return { denied: -1, decisions: [] };
      const reply = await call("take", checks) as unknown[];
      const decisions: Decision[] = [];
      for (let i = 1; i < reply.length; i++) decisions.push(decision(reply[i]));
      const first = Number(reply[0]);
      return { denied: first - 1, decisions: first > 0 ? decisions.slice(0, first) : decisions };
    },
    async rewarm(checks) {
      if (checks.length > 0) await call("rewarm", checks);
    },
  };
}
