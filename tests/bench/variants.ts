/**
 * Issue 13's bench variants: the same gateway config with its limits decided in Redis (a
 * throwaway `redis-server`, persistence off), and with `server.workers: 2` (on both cores: the
 * point is to use them). Each runs beside the plain gateway, so the ratio is a same-run ratio.
 *
 * @module
 */

import { startRedis, type TestRedis } from "../fakes/redis_server.ts";
import { gatewayConfig } from "./gateway_config.ts";
import { freePort, startGateway } from "./procs.ts";
import type { Scenario } from "./scenario_list.ts";
import type { Target } from "./scenarios.ts";

/** What the variants need from the run. */
export interface VariantSetup {
  readonly dir: string;
  readonly upstreamUrls: readonly string[];
  readonly denoFlags: readonly string[];
  readonly main?: string;
}

/** The started variants by name, and how to stop what is not a tracked child (Redis). */
export interface Variants {
  get(name: NonNullable<Scenario["variant"]>): Target | undefined;
  stop(): Promise<void>;
}

/** Starts the variants the selected scenarios compare against. */
export async function startVariants(selected: readonly Scenario[], setup: VariantSetup): Promise<Variants> {
  const started = new Map<string, Target>();
  let redis: TestRedis | undefined;
  for (const name of new Set(selected.map((s) => s.variant).filter((v) => v !== undefined))) {
    const port = freePort();
    const config = `${setup.dir}/config/bench-${name}.yaml`;
    if (name === "redis") redis = await startRedis();
    const variant = name === "redis" ? { redisUrl: redis!.url } : { workers: 2 };
    await Deno.writeTextFile(config, gatewayConfig(port, setup.upstreamUrls, variant));
    const child = await startGateway({
      cpu: name === "workers-2" ? "0,1" : "0",
      config,
      port,
      log: `${setup.dir}/logs/gateway-${name}.log`,
      denoFlags: setup.denoFlags,
      main: setup.main,
    });
    started.set(name, {
      name: name === "redis" ? "gateway redis" : "gateway workers=2",
      base: `http://127.0.0.1:${port}`,
      pid: child.pid,
    });
  }
  return {
    get: (name) => started.get(name),
    stop: async () => await redis?.stop("SIGTERM"),
  };
}
