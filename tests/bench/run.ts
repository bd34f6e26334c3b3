/**
 * `deno task bench`: the load benchmark. Starts the fast fake upstream, the real gateway (`main.ts`,
 * generated config with every request-path feature on, JSON logs to a file), the bare Deno proxy
 * (`baseline_proxy.ts`) and, for the stream-relay capacity scenario, nginx; runs each scenario
 * against them in the same run, and prints the tables and issue 12's targets (ratios against the
 * bare proxy) with a verdict each.
 *
 * Layout when `taskset` exists: servers (upstream, gateway, baseline proxy, nginx) on CPU 0, the
 * load generator (`wrk`, `loadgen.ts` or `relay_load.ts`) on CPU 1. Loopback only; every child is
 * bounded in time and killed on exit.
 *
 * @module
 */

import { gatewayConfig } from "./gateway_config.ts";
import { describeMachine } from "./machine.ts";
import { bestRound, type Measurement } from "./measurement.ts";
import { findNginx, startNginx } from "./nginx.ts";
import { HELP, type Options, parseOptions } from "./options.ts";
import { initClockTicks, stealMeter } from "./proc_stats.ts";
import {
  freePort,
  hasCommand,
  initPinning,
  startBaseline,
  startGateway,
  startUpstream,
  stopAll,
} from "./procs.ts";
import {
  openFileLimit,
  relayCapacity,
  relayPhases,
  type RelayRow,
  type RelayTarget,
  streamCap,
} from "./relay.ts";
import { formatRelayTable } from "./relay_table.ts";
import { type Scenario, SCENARIOS } from "./scenario_list.ts";
import { measure, type RunSettings, type Target, warmUp } from "./scenarios.ts";
import { streamChecks } from "./stream_checks.ts";
import { formatTable } from "./table.ts";
import { checkTargets, type FeatureCheck, formatTargets, stealWarning } from "./targets.ts";
import { startVariants, type Variants } from "./variants.ts";
import { preflight, servedRequests } from "./verify.ts";
import { main as routingMain } from "./routing/main.ts";

const progress = (msg: string) => console.error(`[bench] ${msg}`);

/** The processes a run measures. */
interface Servers {
  readonly upstreamPid: number;
  readonly direct: Target;
  readonly gateway: Target;
  readonly bare?: Target;
  readonly variants: Variants;
  /** Targets of the relay scenario (ports), nginx among them when installed. */
  readonly relay: RelayTarget[];
  readonly nginxNote?: string;
}

const portOf = (base: string) => Number(new URL(base).port);
const relayTarget = (t: Target): RelayTarget => ({ name: t.name, port: portOf(t.base), pid: t.pid });

async function startNginxTarget(dir: string, ports: readonly number[], fileLimit: number | undefined) {
  const bin = await findNginx();
  if (!bin) return { note: "nginx not installed: its relay row is skipped" };
  const port = freePort();
  const setup = {
    dir: `${dir}/nginx`,
    port,
    upstreams: ports.map((p) => `127.0.0.1:${p}`),
    // Both sides of each stream, and spare for keep-alive connections to the upstream.
    workerConnections: 2 * streamCap(relayPhases(false).search.cap, fileLimit) + 100,
  };
  try {
    const { pid } = await startNginx(bin, "0", setup);
    return { target: { name: "nginx", port, pid } };
  } catch (error) {
    return { note: `${(error as Error).message}: its relay row is skipped` };
  }
}

async function startServers(
  o: Options,
  selected: readonly Scenario[],
  dir: string,
  log: string,
): Promise<Servers> {
  const upstream = await startUpstream("0", []);
  const urls = upstream.ports.map((p) => `http://127.0.0.1:${p}`);
  const port = freePort();
  const config = `${dir}/config/bench.yaml`;
  await Deno.writeTextFile(config, gatewayConfig(port, urls));
  const denoFlags = [...o.denoFlags, ...(o.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProf}`] : [])];
  const gw = await startGateway({ cpu: "0", config, port, log, denoFlags, main: o.main });
  const baseline = selected.some((s) => s.baseline) ? await startBaseline("0", urls) : undefined;
  const variants = await startVariants(selected, { dir, upstreamUrls: urls, denoFlags, main: o.main });
  const direct: Target = { name: "direct", base: urls[0], pid: upstream.child.pid };
  const gateway: Target = { name: "gateway", base: `http://127.0.0.1:${port}`, pid: gw.pid };
  const bare: Target | undefined = baseline &&
    { name: "deno proxy", base: `http://127.0.0.1:${baseline.port}`, pid: baseline.child.pid };
  const relay: RelayTarget[] = [];
  let nginxNote: string | undefined;
  if (selected.some((s) => s.kind === "relay")) {
    const nginx = await startNginxTarget(dir, upstream.ports, await openFileLimit());
    nginxNote = nginx.note;
    relay.push(relayTarget(gateway), ...(bare ? [relayTarget(bare)] : []));
    relay.push(...(nginx.target ? [nginx.target] : []), relayTarget(direct));
  }
  return { upstreamPid: upstream.child.pid, direct, gateway, bare, variants, relay, nginxNote };
}

/** Who a scenario is measured against. */
function targetsOf(s: Scenario, v: Servers): Target[] {
  const variant = s.variant && v.variants.get(s.variant);
  if (s.kind === "soak" || s.compare !== undefined) return [v.gateway];
  if (variant) return [v.gateway, variant];
  return [v.direct, v.gateway, ...(s.baseline && v.bare ? [v.bare] : [])];
}

interface Results {
  rows: Measurement[];
  relay: RelayRow[];
  gatewayLoad: number;
  notes: string[];
}

async function runScenarios(o: Options, selected: readonly Scenario[], v: Servers, run: RunSettings) {
  const out: Results = { rows: [], relay: [], gatewayLoad: 0, notes: [] };
  for (const s of selected) {
    if (s.kind === "relay") {
      const fileLimit = await openFileLimit();
      const settings = { loadCpu: run.loadCpu, upstreamPid: v.upstreamPid, quick: o.quick, fileLimit };
      const cap = relayPhases(o.quick).search.cap, capped = streamCap(cap, fileLimit);
      if (capped < cap) {
        out.notes.push(`relay-capacity: at most ${capped} streams (ulimit -n is ${fileLimit})`);
      }
      out.relay = await relayCapacity(v.relay, settings, progress);
      continue;
    }
    const targets = targetsOf(s, v);
    const rounds = s.kind === "requests" || s.kind === "stream" ? Math.round(o.rounds) : 1;
    const results = targets.map(() => [] as Measurement[]);
    for (let r = 0; r < rounds; r++) {
      for (const [i, t] of targets.entries()) {
        progress(`${s.label} → ${t.name}${rounds > 1 ? ` (round ${r + 1}/${rounds})` : ""} …`);
        const m = await measure(s, t, run);
        if (t === v.gateway) out.gatewayLoad += m.requests;
        results[i].push(m);
      }
    }
    out.rows.push(...results.map(bestRound));
  }
  return out;
}

interface Report {
  readonly o: Options;
  readonly results: Results;
  readonly checks: readonly FeatureCheck[];
  readonly machine: { summary: string; markdown: string };
  readonly notes: readonly string[];
}

const RELAY_CAPTION = "Stream-relay capacity (added p99: delay added between consecutive chunks, in " +
  "brackets direct's at the same N; CPU in % of one core; first failing step: CPU of target/upstream/load; " +
  "≥ and rig-bound: the failure is within what the load generator and upstream add on their own):";
const TARGETS_CAPTION = "Targets (issue 12 against the bare Deno proxy; issues 13 and 15):";

async function report({ o, results, checks, machine, notes }: Report): Promise<void> {
  const { rows, relay } = results;
  const warning = stealWarning(rows);
  const sections = [
    ...(rows.length ? [formatTable(rows)] : []),
    ...(relay.length ? [`${RELAY_CAPTION}\n\n${formatRelayTable(relay)}`] : []),
    `${TARGETS_CAPTION}\n\n${formatTargets(checkTargets({ rows, relay, checks }))}`,
  ];
  const lines = [...(warning ? [warning] : []), ...notes];
  console.log(`\n${sections.join("\n\n")}\n\n${lines.join("\n")}`);
  if (!o.markdown) return;
  const md = [machine.markdown, ...sections, lines.map((n) => `${n}.`).join("\n")];
  await Deno.writeTextFile(o.markdown, `${md.join("\n\n")}\n`);
}

async function bench(o: Options): Promise<number> {
  await initClockTicks();
  const pinnedCores = await initPinning();
  const useWrk = o.wrk && await hasCommand("wrk");
  const dir = await Deno.makeTempDir({ prefix: "dairouter-bench-" });
  // Config and log in different directories: the gateway watches its config's directory, and a
  // log written next to it would wake the watcher on every line (not how it runs in production).
  await Deno.mkdir(`${dir}/config`);
  await Deno.mkdir(`${dir}/logs`);
  const log = `${dir}/logs/gateway.log`;
  let servers: Servers | undefined;
  try {
    const selected = SCENARIOS.filter((s) => o.scenarios.includes(s.id));
    servers = await startServers(o, selected, dir, log);
    await preflight([servers.direct, servers.gateway, ...(servers.bare ? [servers.bare] : [])]);
    const checks = await streamChecks(servers.gateway.base);
    const machine = await describeMachine({ pinned: pinnedCores, wrk: useWrk });
    progress(machine.summary);
    const run: RunSettings = {
      useWrk,
      loadCpu: "1",
      warmupS: o.warmupS,
      durationS: o.durationS,
      holdS: o.holdS,
      soakS: o.soakS,
    };
    if (o.gatewayWarmupS > 0) {
      progress(`warming the gateway up for ${o.gatewayWarmupS} s …`);
      await warmUp(SCENARIOS.find((s) => s.id === "chat-c64")!, servers.gateway, run, o.gatewayWarmupS);
    }
    const steal = await stealMeter();
    const results = await runScenarios(o, selected, servers, run);
    const stolen = await steal.stop();
    const served = await servedRequests(servers.gateway.base, log);
    const notes = [
      machine.summary +
      (stolen === undefined ? "" : `; CPU steal during the scenarios: ${stolen.toFixed(1)} %`),
      `gateway counted ${served.metricRequests} requests in its metrics and wrote ${served.logLines} log lines ` +
      `(${results.gatewayLoad} in measured windows; warm-ups, checks and relay steps add the rest)`,
      ...(servers.nginxNote ? [servers.nginxNote] : []),
      ...results.notes,
    ];
    await report({ o, results, checks, machine, notes });
    return 0;
  } finally {
    await stopAll();
    await servers?.variants.stop();
    if (o.keepLogs) progress(`logs kept in ${dir}`);
    else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main && Deno.args[0] === "routing") {
  // `deno task bench routing`: the routing simulation (virtual time; no servers, no load).
  Deno.exit(await routingMain(Deno.args.slice(1)));
}

if (import.meta.main) {
  let options: Options | undefined;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    Deno.exit(2);
  }
  if (!options) {
    console.log(HELP);
    Deno.exit(0);
  }
  const interrupted = async () => {
    progress("interrupted; stopping children");
    await stopAll();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", () => void interrupted());
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", () => void interrupted());
  try {
    Deno.exit(await bench(options));
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
    await stopAll();
    Deno.exit(1);
  }
}
