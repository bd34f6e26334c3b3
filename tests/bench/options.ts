/**
 * `deno task bench`'s command line: the help text and the parsed options.
 *
 * @module
 */

import { SCENARIOS } from "./scenario_list.ts";

/** The help text. */
export const HELP = `deno task bench [options]
deno task bench routing [--seed N] [--quick]   the routing simulation (see tests/bench/routing/)

  --quick              short windows (2 s gateway warm-up, 1 s warm-up, 3 s measured, streams held
                       2 s, a coarse relay-capacity search): a smoke test
  --duration S         measured seconds per target, scenario and round (1..600, default 10)
  --rounds N           rounds per scenario, targets interleaved; each target's best round is
                       reported, with how far its worst fell below (1..10, default 3)
  --warmup S           warm-up seconds before each measurement (0..120, default 3)
  --hold S             seconds the 1,000 streams stay open (1..600, default 10)
  --gateway-warmup S   chat load through the gateway before the first scenario (0..600, default 20;
                       the gateway takes ~30 s of load to reach its steady speed, see RESULTS.md)
  --scenario LIST      comma-separated, or "all" (soak included): ${SCENARIOS.map((s) => s.id).join(", ")}
                       (default: all but soak)
  --soak-duration S    length of the soak scenario (10..3600, default 600)
  --no-wrk             use the Deno load generator even when wrk is installed
  --cpu-prof DIR       run the gateway with --cpu-prof; the .cpuprofile lands in DIR at exit
  --deno-flag FLAG     extra \`deno run\` flag for the gateway (repeatable), e.g. --v8-flags=--trace-gc
  --main FILE          gateway entry point to run (default: this checkout's main.ts), e.g. another
                       checkout's, to compare two versions on the same machine
  --markdown FILE      also write the tables, targets and machine to FILE (Markdown)
  --keep-logs          keep the temporary directory (config, gateway log, nginx config)

relay-capacity: N concurrent streams of 100 chunks 50 ms apart (20 chunks/s each) through the
gateway, the bare Deno proxy, nginx (when installed) and the upstream directly; N doubles from 200
(--quick: 400) and is then bisected to within 12.5 % (--quick: no bisection), up to 6,400 (--quick:
3,200), until the p99 of the delay added between consecutive chunks exceeds 5 ms. Reports the
highest N that held, its chunks/s and chunks/s per core of the proxy's CPU.`;

/** Parsed options. */
export interface Options {
  quick: boolean;
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

function defaults(): Options {
  return {
    quick: false,
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
}

/** One option at `args[i]`; returns the index of the last argument it used. */
function apply(o: Options, args: readonly string[], i: number): number {
  const a = args[i];
  if (a === "--quick") {
    Object.assign(o, { quick: true, gatewayWarmupS: 2, warmupS: 1, durationS: 3, holdS: 2, rounds: 1 });
    return i;
  }
  if (a === "--no-wrk") return (o.wrk = false), i;
  if (a === "--keep-logs") return (o.keepLogs = true), i;
  const v = args[i + 1];
  if (a === "--rounds") o.rounds = bounded(a, v, 1, 10);
  else if (a === "--gateway-warmup") o.gatewayWarmupS = bounded(a, v, 0, 600);
  else if (a === "--duration") o.durationS = bounded(a, v, 1, 600);
  else if (a === "--warmup") o.warmupS = bounded(a, v, 0, 120);
  else if (a === "--hold") o.holdS = bounded(a, v, 1, 600);
  else if (a === "--soak-duration") o.soakS = bounded(a, v, 10, 3600);
  else if (a === "--scenario") o.scenarios.push(...(v ?? "").split(",").filter(Boolean));
  else if (a === "--cpu-prof") o.cpuProf = v;
  else if (a === "--markdown") o.markdown = v;
  else if (a === "--main") o.main = v;
  else if (a === "--deno-flag") o.denoFlags.push(v ?? "");
  else throw new TypeError(`Unknown option "${a}" (see --help)`);
  return i + 1;
}

/**
 * Parses the command line; `undefined` for `--help`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOptions } from "./options.ts";
 * assert(parseOptions(["--scenario", "all"])!.scenarios.includes("soak"));
 * assert(!parseOptions([])!.scenarios.includes("soak"));
 * assert.equal(parseOptions(["--help"]), undefined);
 * ```
 */
export function parseOptions(args: readonly string[]): Options | undefined {
  const o = defaults();
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--help" || args[i] === "-h") return undefined;
    i = apply(o, args, i);
  }
  const known = new Set(SCENARIOS.map((s) => s.id));
  if (o.scenarios.includes("all")) o.scenarios = [...known];
  for (const s of o.scenarios) {
    if (!known.has(s)) throw new TypeError(`Unknown scenario "${s}"; known: ${[...known].join(", ")}, all`);
  }
  if (o.scenarios.length === 0) o.scenarios = SCENARIOS.filter((s) => s.kind !== "soak").map((s) => s.id);
  return o;
}
