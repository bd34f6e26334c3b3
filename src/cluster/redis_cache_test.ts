import assert from "node:assert/strict";
import { openLink, redisAvailable, startRedis } from "../../tests/fakes/redis_server.ts";
import { createRedisFallbackCache } from "./redis_cache.ts";

Deno.test({
  name:
    "createRedisFallbackCache() serves one replica's entry to another, keeps cache-size, hides entries past cache-ttl",
  ignore: !redisAvailable(),
  async fn() {
    const redis = await startRedis();
    const [a, b] = await Promise.all([openLink(redis.url), openLink(redis.url)]);
    try {
      let now = 1_000;
      const clock = () => now;
      const writer = createRedisFallbackCache(a, "t:", "chat", 2, 60_000, clock);
      const reader = createRedisFallbackCache(b, "t:", "chat", 2, 60_000, clock);
      const body = (s: string) => new TextEncoder().encode(s);
      const keys = ["one", "two", "three"].map((m) => writer.key(m, body("{}")));
      for (const [i, k] of keys.entries()) {
        now += 1;
        writer.set(k, { status: 200, contentType: "application/json", body: body(`answer ${i}`) });
      }
      // set() does not wait; the reader's link sees the writes once they landed.
      await a.send(["PING"]);
      assert.equal(await reader.get(keys[0]), undefined, "the oldest entry left for cache-size 2");
      const hit = await reader.get(keys[2]);
      assert.equal(new TextDecoder().decode(hit!.body), "answer 2");
      assert.equal(hit!.contentType, "application/json");
      now += 60_001;
      assert.equal(await reader.get(keys[2]), undefined, "past cache-ttl");
    } finally {
      a.close();
      b.close();
      await redis.stop();
    }
  },
});
