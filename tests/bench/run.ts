/**
 * `deno task bench`: issue 7's benchmark. Starts the fast fake upstream and the real gateway
 * (`main.ts`, generated config with every request-path feature on, JSON logs to a file), runs each
 * scenario against the upstream directly and through the gateway in the same run, and prints one
 * table with the ratios and the targets.
 *
 * Layout when `taskset` exists: servers (upstream, gateway, baseline proxy) on CPU 0, the load
 * generator (`wrk`, or `loadgen.ts` without it) on CPU 1. Loopback only; every child is bounded in
 * time and killed on exit.
 *
 * @module
 */

import { gatewayConfig } from "./gateway_config.ts";
import { describeMachine } from "./machine.ts";
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
import { measure, type RunSettings, SCENARIOS, type Target, warmUp } from "./scenarios.ts";
import { bestRound, checkTargets, formatTable, type Measurement } from "./table.ts";
import { startVariants, type Variants } from "./variants.ts";
import { preflight, servedRequests } from "./verify.ts";
import { main as routingMain } from "./routing/main.ts";

const HELP = `deno task bench [options]
deno task bench routing [--seed N] [--quick]   the routing simulation (see tests/bench/routing/)

  --quick              short windows (2 s gateway warm-up, 1 s warm-up, 3 s measured, streams held
                       2 s): a smoke test
  --duration S         measured seconds per target, scenario and round (1..600, default 10)
  --rounds N           rounds per scenario, targets interleaved; each target's best round is
                       reported, with how far its worst fell below (1..10, default 3)
  --warmup S           warm-up seconds before each measurement (0..120, default 3)
  --hold S             seconds the 1,000 streams stay open (1..600, default 10)
  --gateway-warmup S   chat load through the gateway before the first scenario (0..600, default 20;
                       the gateway takes ~30 s of load to reach its steady speed, see RESULTS.md)
  --scenario LIST      comma-separated: ${SCENARIOS.map((s) => s.id).join(", ")} (default: all but soak)
  --soak-duration S    length of the soak scenario (10..3600, default 600)
  --no-wrk             use the Deno load generator even when wrk is installed
  --cpu-prof DIR       run the gateway with --cpu-prof; the .cpuprofile lands in DIR at exit
  --deno-flag FLAG     extra \`deno run\` flag for the gateway (repeatable), e.g. --v8-flags=--trace-gc
  --main FILE          gateway entry point to run (default: this checkout's main.ts), e.g. another
                       checkout's, to compare two versions on the same machine
  --markdown FILE      also write the table, targets and machine to FILE (Markdown)
  --keep-logs          keep the temporary directory (config, gateway log)`;

interface Options {
  gatewayWarmupS: number;
  warmupS: number;
  durationS: number;
  rounds: number;
  holdS: number;
  soakS: number;
  scenarios: string[];
  wrk: boolean;
  cpuProf?: string;
  denoFlags: string[];
  main?: string;
  markdown?: string;
  keepLogs: boolean;
}

function bounded(name: string, raw: string | undefined, min: number, max: number): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new RangeError(`Option ${name} must be a number in ${min}..${max}, received ${raw}`);
  }
  return v;
}

function parseOptions(args: readonly string[]): Options | undefined {
  const o: Options = {
    gatewayWarmupS: 20,
    warmupS: 3,
    durationS: 10,
    rounds: 3,
    holdS: 10,
    soakS: 600,
    scenarios: [],
    denoFlags: [],
    wrk: true,
    keepLogs: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--help" || a === "-h") return undefined;
    else if (a === "--quick") {
      Object.assign(o, { gatewayWarmupS: 2, warmupS: 1, durationS: 3, holdS: 2, rounds: 1 });
    } else if (a === "--rounds") o.rounds = bounded(a, args[++i], 1, 10);
    else if (a === "--gateway-warmup") o.gatewayWarmupS = bounded(a, args[++i], 0, 600);
    else if (a === "--duration") o.durationS = bounded(a, args[++i], 1, 600);
    else if (a === "--warmup") o.warmupS = bounded(a, args[++i], 0, 120);
    else if (a === "--hold") o.holdS = bounded(a, args[++i], 1, 600);
    else if (a === "--soak-duration") o.soakS = bounded(a, args[++i], 10, 3600);
    else if (a === "--scenario") o.scenarios.push(...(args[++i] ?? "").split(",").filter(Boolean));
    else if (a === "--no-wrk") o.wrk = false;
    else if (a === "--cpu-prof") o.cpuProf = args[++i];
    else if (a === "--markdown") o.markdown = args[++i];
    else if (a === "--main") o.main = args[++i];
    else if (a === "--deno-flag") o.denoFlags.push(args[++i] ?? "");
    else if (a === "--keep-logs") o.keepLogs = true;
    else throw new TypeError(`Unknown option "${a}" (see --help)`);
  }
  const known = new Set(SCENARIOS.map((s) => s.id));
  for (const s of o.scenarios) {
    if (!known.has(s)) throw new TypeError(`Unknown scenario "${s}"; known: ${[...known].join(", ")}`);
  }
  if (o.scenarios.length === 0) o.scenarios = SCENARIOS.filter((s) => s.kind !== "soak").map((s) => s.id);
  return o;
}

const progress = (msg: string) => console.error(`[bench] ${msg}`);

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
  let variants: Variants | undefined;
  try {
    const upstream = await startUpstream("0", []);
    const upstreamUrls = upstream.ports.map((p) => `http://127.0.0.1:${p}`);
    const port = freePort();
    const config = `${dir}/config/bench.yaml`;
    await Deno.writeTextFile(config, gatewayConfig(port, upstreamUrls));
    const denoFlags = [...o.denoFlags, ...(o.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProf}`] : [])];
    const gateway = await startGateway({ cpu: "0", config, port, log, denoFlags, main: o.main });
    const selected = SCENARIOS.filter((s) => o.scenarios.includes(s.id));
    const baseline = selected.some((s) => s.baseline) ? await startBaseline("0", upstreamUrls) : undefined;

    variants = await startVariants(selected, { dir, upstreamUrls, denoFlags, main: o.main });
    const direct: Target = { name: "direct", base: upstreamUrls[0], pid: upstream.child.pid };
    const viaGateway: Target = { name: "gateway", base: `http://127.0.0.1:${port}`, pid: gateway.pid };
    const bare: Target | undefined = baseline &&
      { name: "deno proxy", base: `http://127.0.0.1:${baseline.port}`, pid: baseline.child.pid };
    await preflight([direct, viaGateway, ...(bare ? [bare] : [])]);

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
      await warmUp(SCENARIOS.find((s) => s.id === "chat-c64")!, viaGateway, run, o.gatewayWarmupS);
    }
    const steal = await stealMeter();
    const rows: Measurement[] = [];
    let gatewayLoad = 0;
    for (const s of selected) {
      const variant = s.variant && variants?.get(s.variant);
      const targets = s.kind === "soak" || s.compare !== undefined
        ? [viaGateway]
        : variant
        ? [viaGateway, variant]
        : [direct, viaGateway, ...(s.baseline && bare ? [bare] : [])];
      const rounds = s.kind === "requests" || s.kind === "stream" ? Math.round(o.rounds) : 1;
      const results = targets.map(() => [] as Measurement[]);
      for (let r = 0; r < rounds; r++) {
        for (const [i, t] of targets.entries()) {
          progress(`${s.label} → ${t.name}${rounds > 1 ? ` (round ${r + 1}/${rounds})` : ""} …`);
          const m = await measure(s, t, run);
          if (t === viaGateway) gatewayLoad += m.requests;
          results[i].push(m);
        }
      }
      rows.push(...results.map(bestRound));
    }

    const served = await servedRequests(viaGateway.base, log);
    const table = formatTable(rows);
    const targets = checkTargets(rows);
    const checks = `gateway counted ${served.metricRequests} requests in its metrics and wrote ` +
      `${served.logLines} log lines (${gatewayLoad} in measured windows; warm-ups add the rest)`;
    console.log(`\n${table}\n`);
    for (const line of targets) console.log(line);
    const stolen = await steal.stop();
    const stealNote = stolen === undefined ? "" : `; CPU steal during the scenarios: ${stolen.toFixed(1)} %`;
    console.log(`\n${machine.summary}${stealNote}\n${checks}`);
    if (o.markdown) {
      await Deno.writeTextFile(
        o.markdown,
        `${machine.markdown}${
          stealNote ? `\nCPU steal (hypervisor) during the scenarios: ${stolen!.toFixed(1)} %.` : ""
        }\n\n${table}\n\nTargets (issue 7):\n\n${
          targets.map((t) => `- ${t}`).join("\n")
        }\n\nChecks: ${checks}.\n`,
      );
    }
    return 0;
  } finally {
    await stopAll();
    await variants?.stop();
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
