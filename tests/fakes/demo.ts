/**
 * `deno task demo`: two simulated upstreams (A and B, on 127.0.0.1:9101 and :9102 by default) and
 * the real gateway in front of them with config/demo.yaml (on :8080 by default). Works with no
 * GPU; Ctrl-C stops everything.
 *
 * Ports: `--upstream-ports A,B` (or env `DEMO_UPSTREAM_PORTS=A,B`; 0 = any free port) moves the
 * upstreams, and the gateway's own `--port` / `DAIROUTER_PORT` moves the gateway. Every other
 * argument goes to the gateway (`--host`, `--no-watch`…).
 *
 * @module
 */

import { main } from "../../main.ts";
import { startFakeUpstream } from "./openai_upstream.ts";

const DEFAULT_PORTS = "9101,9102";

/** Splits the demo's own `--upstream-ports` out of `args`; the rest is the gateway's. */
export function demoArgs(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): { ports: [number, number]; rest: string[] } {
  let spec = env.DEMO_UPSTREAM_PORTS ?? DEFAULT_PORTS;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--upstream-ports") spec = args[++i] ?? "";
    else if (args[i].startsWith("--upstream-ports=")) spec = args[i].slice("--upstream-ports=".length);
    else rest.push(args[i]);
  }
  const ports = spec.split(",").map((p) => (/^\d{1,5}$/.test(p.trim()) ? Number(p) : NaN));
  if (ports.length !== 2 || ports.some((p) => !(p >= 0 && p < 65536))) {
    throw new TypeError(`Upstream ports must be two ports 0..65535 like "9101,9102", received "${spec}"`);
  }
  return { ports: [ports[0], ports[1]], rest };
}

if (import.meta.main) {
  const env = Deno.env.toObject();
  let parsed;
  try {
    parsed = demoArgs(Deno.args, env);
  } catch (error) {
    console.error(`demo: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const a = startFakeUpstream({ name: "A", port: parsed.ports[0], streamChunks: 8, chunkDelayMs: 150 });
  const b = startFakeUpstream({ name: "B", port: parsed.ports[1], streamChunks: 8, chunkDelayMs: 150 });
  console.log(`demo upstreams: A ${a.url}, B ${b.url}
The gateway logs its address below; the README's Quickstart has a command for every service.`);
  // config/demo.yaml reads these (its defaults are 9101 and 9102).
  const code = await main(
    ["--config", new URL("../../config/demo.yaml", import.meta.url).pathname, ...parsed.rest],
    { ...env, DEMO_UPSTREAM_A_PORT: String(a.port), DEMO_UPSTREAM_B_PORT: String(b.port) },
  );
  await a.close();
  await b.close();
  Deno.exit(code);
}
