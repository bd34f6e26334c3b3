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
import { setImmediate } from "node:timers";
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
  /**
   * Schedules the call of the requests gathered so far. The default, `setImmediate`, waits for
   * the end of this turn of the event loop: the requests whose bodies arrived together go in one
   * call (measured: 17 requests per call at 64 connections; a microtask would send each alone).
   * @default {setImmediate}
   */
  readonly defer?: (flush: () => void) => void;
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
  /** alg, capacity, rate, windowMs, period, fraction, ttlMs: the config's arguments. */
  readonly args: readonly string[];
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
    args: [
      ALG[c.algorithm],
      String(c.capacity),
      String(bucket ? c.rate : 1),
      String(c.windowMs),
      String(period),
      String(c.warmUp?.initialFraction ?? 1),
      String(Math.min(idleMs, 2 ** 31)),
    ],
    warm: period > 0,
    bases: new Map(),
  };
}

/** A whole number of the reply (-1: an endless wait). */
function ms(n: number): number {
  return n === -1 ? Infinity : n;
}

/** The decision at `reply[i…i+3]` of a check with `limit` (its capacity). */
function decision(reply: readonly number[], i: number, limit: number): Decision {
  return {
    allowed: reply[i] === 1,
    retryAfterMs: ms(reply[i + 1]),
    limit,
    remaining: reply[i + 2],
    resetMs: ms(reply[i + 3]),
  };
}

/** One request of a batch. */
interface Pending {
  readonly checks: readonly LimitCheck[];
  readonly extra: readonly LimitCheck[];
  resolve(v: LimitVerdict): void;
  reject(error: unknown): void;
}

const NONE: readonly never[] = Object.freeze([]);
/** Small numbers as text, made once (indexes and counts of every call). */
const DIGITS: readonly string[] = Array.from({ length: 1024 }, (_, i) => String(i));
const text = (n: number) => n < DIGITS.length ? DIGITS[n] : String(n);
/** Requests per script call at most (a busier turn makes several calls). */
const MAX_BATCH = 256;

/** The command of one batch, built in place. */
class CallBuilder {
  readonly keys: string[] = [];
  readonly keyConfs: string[] = [];
  readonly confArgs: string[] = [];
  readonly requests: string[] = [];
  readonly #keyIndex = new Map<string, number>();
  readonly #confIndex = new Map<Prepared, number>();

  constructor(readonly prep: (c: RateLimitConfig) => Prepared, readonly prefix: string) {}

  /** Adds one request's checks. */
  add(checks: readonly LimitCheck[], extra: readonly LimitCheck[]): void {
    this.requests.push(text(checks.length), text(extra.length));
    for (const c of checks) this.#check(c);
    for (const c of extra) this.#check(c);
  }

  #check(c: LimitCheck): void {
    const p = this.prep(c.config);
    let base = p.bases.get(c.name);
    if (base === undefined) p.bases.set(c.name, base = `${this.prefix}rl:${c.name}:${p.tag}:`);
    const state = base + c.key;
    let i = this.#keyIndex.get(state);
    if (i === undefined) {
      let conf = this.#confIndex.get(p);
      if (conf === undefined) {
        this.#confIndex.set(p, conf = this.#confIndex.size + 1);
        for (const a of p.args) this.confArgs.push(a);
      }
      this.keys.push(state, p.warm ? base + "~ws" : base);
      this.keyConfs.push(text(conf));
      this.#keyIndex.set(state, i = this.#keyIndex.size + 1);
    }
    this.requests.push(text(i), c.cost === undefined ? "1" : String(c.cost));
  }

  /** `EVALSHA sha …` for `nreq` requests. */
  command(sha: string, now: string, op: string, at: string, nreq: number): string[] {
    const m = this.#keyIndex.size;
    return [
      "EVALSHA",
      sha,
      text(2 * m),
      ...this.keys,
      now,
      op,
      at,
      text(this.#confIndex.size),
      text(m),
      text(nreq),
      ...this.confArgs,
      ...this.keyConfs,
      ...this.requests,
    ];
  }
}

/** The verdict of one request from its part of the reply. */
function verdictOf(p: Pending, r: readonly number[], at: number): LimitVerdict {
  const denied = r[0] - 1;
  const decisive = r[1];
  let i = 2;
  let decision: Decision | undefined;
  if (decisive > 0) {
    decision = decision4(r, i, p.checks[decisive - 1]);
    i += 4;
  }
  if (denied >= 0 || p.extra.length === 0) return { denied, decision, extra: NONE, at };
  const extra: Decision[] = [];
  for (const c of p.extra) {
    extra.push(decision4(r, i, c));
    i += 4;
  }
  return { denied, decision, extra, at };
}

function decision4(r: readonly number[], i: number, c: LimitCheck): Decision {
  return decision(r, i, c.config.capacity);
}

/** `check` with its cost given back (what {@linkcode LimitBackend.adjust} refunds). */
function refund(check: LimitCheck): LimitCheck {
  return { ...check, cost: -(check.cost ?? 1) };
}

/**
 * The checks a batch's `take` reply took: every scope of each admitted request, and each of its
 * instance checks that allowed.
 */
function taken(batch: readonly Pending[], reply: readonly unknown[]): LimitCheck[] {
  const out: LimitCheck[] = [];
  for (let r = 0; r < batch.length; r++) {
    const p = batch[r];
    const v = verdictOf(p, reply[r + 1] as number[], 0);
    if (v.denied >= 0) continue;
    for (const c of p.checks) out.push(c);
    for (let i = 0; i < v.extra.length; i++) if (v.extra[i].allowed) out.push(p.extra[i]);
  }
  return out;
}

/**
 * Creates the Redis limit backend on a link. Requests made in the same turn of the event loop
 * go to Redis together, in one script call (see `redis_limits_lua.ts`). Calls reject while the
 * link is down or past its deadline; the caller (the cluster limits of `src/cluster/`) decides
 * what then happens. A call past its deadline is undone: its requests were decided without it,
 * so when its reply still comes (Redis ran it late), what it took is refunded in one `adjust`
 * at its own time — Redis is left as if it had not been made.
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
  const clockText = () => now === undefined ? "" : String(now());
  // Loaded as soon as a session is up, so the first requests do not pay for its compilation.
  const preload = (up: boolean) => up && link.send(["SCRIPT", "LOAD", script.text]).catch(() => {});
  link.onChange(preload);
  preload(link.up);

  let queue: Pending[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const b = new CallBuilder(prep, keyPrefix);
    for (const p of batch) b.add(p.checks, p.extra);
    const undo = (raw: unknown) => {
      const reply = raw as unknown[];
      return commandOf("adjust", taken(batch, reply).map(refund), String(reply[0]));
    };
    link.runScript(script, b.command(script.sha, clockText(), "take", "", batch.length), undo).then(
      (raw) => {
        const reply = raw as unknown[];
        const at = Number(reply[0]);
        for (let r = 0; r < batch.length; r++) {
          batch[r].resolve(verdictOf(batch[r], reply[r + 1] as number[], at));
        }
      },
      (error) => {
        for (const p of batch) p.reject(error);
      },
    );
  };
  const defer = options.defer ?? ((fn: () => void) => void setImmediate(fn));

  /** The call of `op` on `checks` as one request (`undefined` for no checks). */
  const commandOf = (op: string, checks: readonly LimitCheck[], at: string) => {
    if (checks.length === 0) return undefined;
    const b = new CallBuilder(prep, keyPrefix);
    b.add(checks, NONE);
    return b.command(script.sha, clockText(), op, at, 1);
  };
  const single = async (op: string, checks: readonly LimitCheck[], at: string) => {
    const command = commandOf(op, checks, at);
    if (command !== undefined) await link.runScript(script, command);
  };

  return {
    decide(checks, extra = NONE): Promise<LimitVerdict> {
      if (checks.length + extra.length === 0) {
        return Promise.resolve({ denied: -1, decision: undefined, extra: NONE, at: 0 });
      }
      const { promise, resolve, reject } = Promise.withResolvers<LimitVerdict>();
      if (queue.length === 0) defer(flush);
      queue.push({ checks, extra, resolve, reject });
      if (queue.length >= MAX_BATCH) flush();
      return promise;
    },
    adjust: (checks, at) => single("adjust", checks, String(at)),
    rewarm: (checks) => single("rewarm", checks, ""),
  };
}
