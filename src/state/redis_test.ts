import { storeContract } from "./_testing.ts";
import { openLink, redisAvailable, startRedis } from "../../tests/fakes/redis_server.ts";
import { createRedisStore } from "./redis.ts";

if (redisAvailable()) {
  // One server for the suite; each store gets its own prefix, so tests stay independent.
  let server: Awaited<ReturnType<typeof startRedis>> | undefined;
  let n = 0;
  storeContract("createRedisStore", async (clock) => {
    server ??= await startRedis();
    const link = await openLink(server.url);
    const store = createRedisStore(link, `contract${n++}:`, clock);
    return { ...store, close: () => link.close() };
  });
  Deno.test("createRedisStore() suite teardown stops its redis-server", async () => {
    await server?.stop();
  });
}
