/**
 * A description of the machine and setup a bench run happened on, for the table's caption: cores,
 * CPU model, kernel, Deno, load generator and core pinning.
 *
 * @module
 */

import { readProc } from "./proc_stats.ts";

/** How the run was set up. */
export interface Setup {
  readonly pinned: boolean;
  readonly wrk: boolean;
}

async function firstLine(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout) || new TextDecoder().decode(out.stderr);
    return text.split("\n")[0].trim() || undefined;
  } catch {
    return undefined;
  }
}

/** One-line summary and a Markdown paragraph. */
export async function describeMachine(setup: Setup): Promise<{ summary: string; markdown: string }> {
  let cpu = "unknown CPU";
  const info = await readProc("/proc/cpuinfo");
  cpu = info?.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? cpu;
  const cores = navigator.hardwareConcurrency ?? 1;
  const wrk = setup.wrk ? (await firstLine("wrk", ["-v"]))?.split(" [")[0] ?? "wrk" : "Deno load generator";
  const pinning = setup.pinned
    ? "upstream + gateway pinned to CPU 0, load generator to CPU 1 (taskset)"
    : "no pinning (taskset missing or one core)";
  const summary = `machine: ${cores} cores, ${cpu}, Linux ${Deno.osRelease()}, Deno ${Deno.version.deno}; ` +
    `load: ${wrk}; ${pinning}`;
  const markdown = [
    `Machine: ${cores} cores (\`nproc\`), ${cpu}, Linux ${Deno.osRelease()}, Deno ${Deno.version.deno}.`,
    `Load generator: ${wrk} (one thread; streams always use tests/bench/loadgen.ts, the relay-capacity scenario relay_load.ts). ${pinning}.`,
  ].join("\n");
  return { summary, markdown };
}
