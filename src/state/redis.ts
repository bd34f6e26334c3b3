/**
 * The Redis {@linkcode StateStore}: what replicas share that is not a limiter count — breaker
 * and health states, the versioned config document. Each entry is one Redis string
 * `<prefix>kv:<key as JSON>` holding `{ v, x }` (value, expiry on the injected clock, as the KV
 * store keeps it), with a real `PX` expiry so Redis drops it too; a sorted set `<prefix>kv-index`
 * lists the keys for {@linkcode StateStore.list}. Every call has the link's deadline.
 *
 * @module
 */

import type { Clock } from "../types.ts";
import { compareKeys } from "./memory.ts";
import type { RedisLink } from "./redis_link.ts";
import { checkExpiry, checkKey, type StateStore, type StoreEntry } from "./store.ts";

interface Envelope {
  readonly v: unknown;
  /** Absolute expiry on the store's clock, 0 = none. */
  readonly x: number;
}

function unwrap(raw: unknown, now: number): unknown {
  if (typeof raw !== "string") return undefined;
  try {
    const e = JSON.parse(raw) as Envelope;
    return typeof e === "object" && e !== null && typeof e.x === "number" && (e.x === 0 || now < e.x)
      ? e.v
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens a store on a Redis link. Values must be JSON data (the other stores take any
 * structured-clonable value; the gateway stores only JSON).
 *
 * @param link The connection (see `redis_link.ts`).
 * @param prefix `state.key-prefix`.
 * @param clock Milliseconds now, for `expireInMs`.
 */
export function createRedisStore(link: RedisLink, prefix: string, clock: Clock): StateStore {
  const index = `${prefix}kv-index`;
  const id = (key: readonly string[]) => JSON.stringify(key);
  const redisKey = (encoded: string) => `${prefix}kv:${encoded}`;
  return {
    async get<T>(key: readonly string[]) {
      checkKey("get state", key);
      return unwrap(await link.send(["GET", redisKey(id(key))]), clock()) as T | undefined;
    },
    async set(key, value, options) {
      checkKey("set state", key);
      checkExpiry(options);
      const ms = options?.expireInMs;
      const text = JSON.stringify({ v: value, x: ms === undefined ? 0 : clock() + ms } satisfies Envelope);
      const k = id(key);
      const expiry = ms === undefined ? [] : ["PX", String(Math.ceil(ms))];
      await link.send(["SET", redisKey(k), text, ...expiry]);
      await link.send(["ZADD", index, "0", k]);
    },
    async delete(key) {
      checkKey("delete state", key);
      const k = id(key);
      await link.send(["DEL", redisKey(k)]);
      await link.send(["ZREM", index, k]);
    },
    async list<T>(prefixKey: readonly string[]) {
      checkKey("list state", prefixKey, true);
      const start = prefixKey.length === 0 ? "[" : `${id(prefixKey).slice(0, -1)},`;
      const members = (await link.send(["ZRANGE", index, "0", "-1"]) as string[]).filter((m) =>
        m.startsWith(start)
      );
      if (members.length === 0) return [];
      const values = await link.send(["MGET", ...members.map(redisKey)]) as unknown[];
      const now = clock();
      const found: Array<StoreEntry<T>> = [];
      const gone: string[] = [];
      members.forEach((m, i) => {
        const value = unwrap(values[i], now);
        if (values[i] === null) gone.push(m);
        if (value !== undefined) found.push({ key: JSON.parse(m), value: value as T });
      });
      if (gone.length > 0) await link.send(["ZREM", index, ...gone]);
      return found.sort((a, b) => compareKeys(a.key, b.key));
    },
    close() {},
  };
}
