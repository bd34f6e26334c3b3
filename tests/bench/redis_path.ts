/**
 * In-process cost of deciding limits in Redis: the bench gateway config (every request-path
 * feature on: global, service, client-IP and instance limits, breakers, health, metrics, JSON
 * logs) served through `gateway.fetch` with 64 requests in flight, its upstream a canned answer
 * (no sockets, so what is measured is the gateway's own work), once on the in-process limiters
 * and once on a throwaway `redis-server`. Prints requests/s and the gateway's CPU µs per request
 * for both; Redis' own CPU is reported apart (it runs in its own process).
 *
 * Usage: `deno run -A tests/bench/redis_path.ts [--requests N] [--only memory|redis]`; with
 * `--cpu-prof` as a `deno run` flag it writes a V8 profile to summarise with `profile_summary.ts`.
 *
 * @module
 */

import process from "node:process";
import { clusterDecider } from "../../src/cluster/decider.ts";
import { createClusterLimits } from "../../src/cluster/limits.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";
import { createRedisLimits } from "../../src/state/redis_limits.ts";
import { openLink, startRedis, type TestRedis } from "../fakes/redis_server.ts";
import { CHAT_MODEL, gatewayConfig } from "./gateway_config.ts";

const UPSTREAMS = ["http://127.0.0.1:9001", "http://127.0.0.1:9002"];
const ANSWER = JSON.stringify({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: CHAT_MODEL,
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const BODY = JSON.stringify({ model: CHAT_MODEL, messages: [{ role: "user", content: "hi" }] });

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : fallback;
}

/** CPU seconds Redis has used so far (utime + stime from /proc). */
function redisCpuS(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(kind: "memory" | "redis", total: number, redis?: TestRedis) {
  const { config } = parseConfig(gatewayConfig(8080, UPSTREAMS), { source: "bench.yaml", env: {} });
  const link = redis ? await openLink(redis.url, { timeoutMs: 50 }) : undefined;
  if (link && !link.up) throw new Error(`Redis link down: ${link.lastError}`);
  let fellBack = 0;
  const limits = link
    ? clusterDecider(createClusterLimits({
      backend: createRedisLimits({ link, keyPrefix: "inproc:" }),
      up: () => link.up,
      onUnavailable: "local",
      fellBack: () => fellBack++,
    }))
    : undefined;
  let fails = 0;
  const gateway = createGateway(config, {
    clock: Date.now,
    random: Math.random,
    fetch: () => Promise.resolve(new Response(ANSWER, { headers: { "content-type": "application/json" } })),
    write: () => {},
    limits,
  });
  const one = async () => {
    const res = await gateway.fetch(
      new Request("http://127.0.0.1:8080/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: BODY,
      }),
    );
    if (res.status !== 200) fails++;
    await res.arrayBuffer();
  };
  const loop = async (n: number) => {
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next++ < n) await one();
    }));
  };
  await loop(Math.min(20_000, total)); // warm-up (JIT, script cache)
  const cpu0 = process.cpuUsage();
  const r0 = redis ? redisCpuS(redis.pid) : 0;
  const t0 = performance.now();
  await loop(total);
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const redisUs = redis ? (redisCpuS(redis.pid) - r0) * 1e6 / total : 0;
  // Redis' own account of the script's time (execution only, not reading and parsing commands).
  const stats = link ? String(await link.send(["INFO", "commandstats"])) : "";
  const script = stats.match(/cmdstat_evalsha:calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/);
  await gateway.close();
  link?.close();
  console.log(
    `${kind.padEnd(6)} ${(total / s).toFixed(0).padStart(7)} req/s  ` +
      `${((cpu.user + cpu.system) / total).toFixed(1).padStart(6)} µs CPU/request (gateway)` +
      (redis ? `  ${redisUs.toFixed(1)} µs CPU/request (redis-server)` : "") +
      (script ? ` of which ${script[2]} µs running the script (${script[1]} calls)` : "") +
      (fails ? `  ${fails} not 200!` : "") +
      (fellBack ? `  ${fellBack} decided locally (Redis missed its deadline)` : ""),
  );
}

const total = Number(arg("--requests", "100000"));
const only = arg("--only", "");
if (only !== "redis") await run("memory", total);
if (only !== "memory") {
  const redis = await startRedis();
  try {
    await run("redis", total, redis);
  } finally {
    await redis.stop();
  }
}
Deno.exit(0);
