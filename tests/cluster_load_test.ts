/**
 * Load-aware balancing sees the cluster: two gateway processes on one real `redis-server`, with
 * least-connections over a slow instance and a fast one. A request held by the slow instance on
 * one replica shows on the other's status page within about two `share-interval`s (measured and
 * printed), and from then on the other replica sends its requests to the idle instance.
 */

import assert from "node:assert/strict";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { redisAvailable, startRedis } from "./fakes/redis_server.ts";
import { chat, replicaYaml, startReplicas, stopAll } from "./fakes/replicas.ts";

interface InstanceStatus {
  readonly id: string;
  readonly inFlight: number;
  readonly peers?: { inFlight: number };
}

async function instances(url: string): Promise<InstanceStatus[]> {
  return (await (await fetch(`${url}/v1/chat/status`)).json()).instances;
}

Deno.test({
  name:
    "two replicas, least-connections: in-flight requests on one are seen by the other within 2 share-intervals",
  ignore: !redisAvailable(),
  async fn() {
    const slow = startFakeUpstream({ name: "slow" });
    const fast = startFakeUpstream({ name: "fast" });
    slow.fault = { kind: "delay", ms: 1500 };
    const redis = await startRedis();
    const yaml = replicaYaml(
      redis.url,
      fast.url,
      "      load-balance: { type: least-connections }",
      "  share-interval: 100ms",
    )
      .replace("      instances:\n", `      instances:\n        - { name: m, base-url: "${slow.url}" }\n`);
    const gws = await startReplicas(2, yaml);
    try {
      // Replica 0 sends one request: least-connections starts with the first instance, the slow one.
      const held = chat(gws[0].url);
      while (slow.requests.length === 0) await new Promise((r) => setTimeout(r, 2));
      const t0 = performance.now();
      let seenAfter = -1;
      while (seenAfter < 0) {
        const [s] = await instances(gws[1].url);
        if (s.peers?.inFlight === 1) seenAfter = performance.now() - t0;
        else if (performance.now() - t0 > 1000) assert.fail("replica 1 never saw replica 0's request");
        else await new Promise((r) => setTimeout(r, 5));
      }
      console.log(`in-flight count seen by the other replica after ${seenAfter.toFixed(0)} ms`);
      assert.ok(seenAfter < 2 * 100 + 100, `${seenAfter} ms`);
      // Alone, replica 1 would see two idle instances and take turns; it sees the slow one busy.
      for (let i = 0; i < 4; i++) {
        const res = await chat(gws[1].url);
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
      assert.equal(slow.requests.length, 1, "nothing more was sent to the busy instance");
      assert.equal(fast.requests.length, 4);
      slow.fault = { kind: "none" };
      await (await held).body?.cancel();
    } finally {
      await stopAll(gws, redis);
      await slow.close();
      await fast.close();
    }
  },
});
