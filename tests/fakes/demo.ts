/**
 * `deno task demo`: two simulated upstreams (A and B, on 127.0.0.1:9101 and :9102 by default) and
 * the real gateway in front of them with config/demo.yaml (on :8080 by default). Works with no
 * GPU; Ctrl-C stops everything.
 *
 * Ports: `--upstream-ports A,B` (or env `DEMO_UPSTREAM_PORTS=A,B`; 0 = any free port) moves the
 * upstreams, and the gateway's own `--port` / `DAIROUTER_PORT` moves the gateway. `--traffic` adds
 * a little steady traffic to watch in the operator console (`/ui/`). Every other argument goes to
 * the gateway (`--host`, `--no-watch`…).
 *
 * The gateway runs on a copy of config/demo.yaml in a temporary directory, so what the console or
 * the admin API changes is written there, never into the repository.
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
): { ports: [number, number]; rest: string[]; traffic: boolean } {
  let spec = env.DEMO_UPSTREAM_PORTS ?? DEFAULT_PORTS;
  const rest: string[] = [];
  let traffic = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--traffic") traffic = true;
    else if (args[i] === "--upstream-ports") spec = args[++i] ?? "";
    else if (args[i].startsWith("--upstream-ports=")) spec = args[i].slice("--upstream-ports=".length);
    else rest.push(args[i]);
  }
  const ports = spec.split(",").map((p) => (/^\d{1,5}$/.test(p.trim()) ? Number(p) : NaN));
  if (ports.length !== 2 || ports.some((p) => !(p >= 0 && p < 65536))) {
    throw new TypeError(`Upstream ports must be two ports 0..65535 like "9101,9102", received "${spec}"`);
  }
  return { ports: [ports[0], ports[1]], rest, traffic };
}

/** A few requests a second to the demo models at `base` until `signal` aborts. */
async function traffic(base: string, signal: AbortSignal): Promise<void> {
  for (let i = 0; !signal.aborted; i++) {
    const [path, json] = i % 3 === 2
      ? ["/v1/embeddings", { model: "demo-embed", input: "hello" }]
      : ["/v1/chat/completions", {
        model: "demo-chat",
        stream: i % 2 === 0,
        messages: [{ role: "user", content: "hi" }],
      }];
    await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(json),
      signal,
    }).then((r) => r.arrayBuffer()).catch(() => {});
    await new Promise((r) => setTimeout(r, 150 + 250 * Math.abs(Math.sin(i / 20))));
  }
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
  const dir = await Deno.makeTempDir({ prefix: "dairouter-demo-" });
  const config = `${dir}/demo.yaml`;
  await Deno.copyFile(new URL("../../config/demo.yaml", import.meta.url), config);
  console.log(`demo upstreams: A ${a.url}, B ${b.url}; config: ${config}
The gateway logs its address below; the README's Quickstart has a command for every service.
Operator console: <address>/ui/ (admin token: demo-admin-token-change-me, or $ADMIN_TOKEN).`);
  const stop = new AbortController();
  const gatewayUrl = Promise.withResolvers<string>();
  const background = parsed.traffic
    ? gatewayUrl.promise.then((url) => Promise.all([traffic(url, stop.signal), traffic(url, stop.signal)]))
    : Promise.resolve();
  // config/demo.yaml reads these (its defaults are 9101 and 9102).
  const code = await main(
    ["--config", config, ...parsed.rest],
    { ...env, DEMO_UPSTREAM_A_PORT: String(a.port), DEMO_UPSTREAM_B_PORT: String(b.port) },
    (address) => gatewayUrl.resolve(address),
  );
  stop.abort();
  gatewayUrl.resolve("");
  await background;
  await a.close();
  await b.close();
  await Deno.remove(dir, { recursive: true });
  Deno.exit(code);
}
