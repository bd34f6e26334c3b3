/**
 * Replicas of the gateway for cluster tests: `main.ts` processes, each on its own copy of one
 * YAML config (as on separate hosts), sharing a test `redis-server`.
 *
 * @module
 */

import { postChat } from "./gateway.ts";
import { type FakeUpstream, startFakeUpstream } from "./openai_upstream.ts";
import { type GatewayProcess, spawnGateway } from "./process.ts";
import { startRedis, type TestRedis } from "./redis_server.ts";

/** The admin token of {@linkcode replicaYaml}. */
export const TOKEN = "cluster-admin-token-0123456789ab";

/** One replica's config. */
export function replicaYaml(redisUrl: string, upstream: string, extra = "", state = ""): string {
  return `
log: { level: info, format: json }
server: { drain-delay: 0, shutdown-timeout: 2000 }
state:
  backend: redis
  url: "${redisUrl}"
  key-prefix: "t:"
  timeout: 200ms
  replicas: 3
${state}
admin:
  token: ${TOKEN}
model:
  health-check: { enabled: false }
  services:
    chat:
${extra}
      instances:
        - { name: m, base-url: "${upstream}" }
`;
}

/** Starts `n` replicas, each on its own copy of `yaml`. */
export async function startReplicas(n: number, yaml: string): Promise<GatewayProcess[]> {
  return await Promise.all(Array.from({ length: n }, async () => {
    const dir = await Deno.makeTempDir({ prefix: "dairouter-replica-" });
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    return await spawnGateway(["--config", `${dir}/config.yaml`, "--no-watch"]);
  }));
}

/** Stops every replica (SIGTERM) and the Redis. */
export async function stopAll(gws: GatewayProcess[], redis: TestRedis | undefined): Promise<void> {
  for (const g of gws) g.kill("SIGTERM");
  await Promise.all(gws.map((g) => g.exited));
  await redis?.stop();
}

/**
 * Runs `fn` against `n` replicas on a fresh Redis in front of one fake upstream (`yaml` makes the
 * replicas' config from their URLs), then stops them all.
 */
export async function withReplicas(
  n: number,
  yaml: (redisUrl: string, upstreamUrl: string) => string,
  fn: (gws: GatewayProcess[], redis: TestRedis, up: FakeUpstream) => Promise<void>,
): Promise<void> {
  const up = startFakeUpstream({ name: "A" });
  const redis = await startRedis();
  const gws = await startReplicas(n, yaml(redis.url, up.url));
  try {
    await fn(gws, redis, up);
  } finally {
    await stopAll(gws, redis);
    await up.close();
  }
}

/** Posts a small chat request for `model` (with a client API key when given). */
export const chat = (url: string, model = "m", key?: string) =>
  postChat(url, { model, headers: key ? { authorization: `Bearer ${key}` } : {} });

/** Waits until `re` has matched `n` lines of `g`'s output (bounded). */
export async function waitForCount(
  g: GatewayProcess,
  re: RegExp,
  n: number,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (g.lines.filter((l) => re.test(l)).length < n) {
    if (Date.now() > until) throw new Error(`fewer than ${n} lines match ${re}:\n${g.lines.join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Polls `check` every 10 ms until it holds; returns the ms it took (fails past `limitMs`). */
export async function within(limitMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > limitMs) throw new Error(`not within ${limitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
}
