/**
 * The `cache` fallback kept in Redis, so a replica that never served a request can still answer
 * from what another one cached. Per service: entries `<prefix>fc:<service>:<key>` expire after
 * `cache-ttl` (Redis `PX`), and a sorted set `<prefix>fc:<service>` by insertion time keeps at
 * most `cache-size` of them (the oldest are dropped, as the in-memory cache drops its oldest).
 * A read or write that misses its deadline is a cache miss, never an error.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { CachedResponse, FallbackCache } from "../proxy/fallback_cache.ts";
import { luaScript, type RedisLink } from "../state/redis_link.ts";
import type { Clock } from "../types.ts";

const SET_LUA = luaScript(`
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
redis.call("ZADD", KEYS[2], ARGV[3], KEYS[1])
local over = redis.call("ZCARD", KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  -- ZPOPMIN answers member, score, member, score…: delete the members.
  for i, v in ipairs(redis.call("ZPOPMIN", KEYS[2], over)) do
    if i % 2 == 1 then redis.call("DEL", v) end
  end
end
return 0
`);

interface Stored {
  readonly s: number;
  readonly t: string;
  readonly b: string;
  readonly at: number;
}

/**
 * Creates a Redis-backed fallback cache for one service.
 *
 * @param name The cache's name within the prefix (the service kind).
 */
export function createRedisFallbackCache(
  link: RedisLink,
  prefix: string,
  name: string,
  size: number,
  ttlMs: number,
  clock: Clock,
): FallbackCache {
  if (!(size >= 1)) {
    throw new RangeError(`Cannot create fallback cache: "cache-size" must be >= 1, received ${size}`);
  }
  if (!(ttlMs > 0)) {
    throw new RangeError(`Cannot create fallback cache: "cache-ttl" must be > 0, received ${ttlMs}`);
  }
  const index = `${prefix}fc:${name}`;
  return {
    key(model, body) {
      return createHash("sha256").update(model).update("\0").update(body).digest("base64");
    },
    async get(key) {
      try {
        const raw = await link.send(["GET", `${index}:${key}`]);
        if (typeof raw !== "string") return undefined;
        const v = JSON.parse(raw) as Stored;
        if (clock() - v.at > ttlMs) return undefined;
        const body = Uint8Array.from(atob(v.b), (c) => c.charCodeAt(0));
        return { status: v.s, contentType: v.t, body, storedAt: v.at } satisfies CachedResponse;
      } catch {
        return undefined;
      }
    },
    set(key, value) {
      const at = clock();
      let bin = "";
      for (let i = 0; i < value.body.length; i += 0x8000) {
        bin += String.fromCharCode(...value.body.subarray(i, i + 0x8000));
      }
      const text = JSON.stringify(
        { s: value.status, t: value.contentType, b: btoa(bin), at } satisfies Stored,
      );
      link.runScript(SET_LUA, [
        "EVALSHA",
        SET_LUA.sha,
        "2",
        `${index}:${key}`,
        index,
        text,
        String(Math.ceil(ttlMs)),
        String(at),
        String(size),
      ]).catch(() => {});
    },
    get size() {
      return 0;
    },
  };
}
