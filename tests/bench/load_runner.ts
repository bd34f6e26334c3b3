/**
 * Runs one of the bench's Deno load generators (`loadgen.ts`, `relay_load.ts`) as a child pinned to
 * the load core, and calls back on its progress lines so the orchestrator can read the servers'
 * CPU and memory exactly over the measured window.
 *
 * @module
 */

import { spawnPiped } from "./procs.ts";

/** Called when the load generator starts and ends its measured window (with its pid). */
export interface LoadHooks {
  onStart?: (loadPid: number) => Promise<void>;
  onEnd?: (loadPid: number) => Promise<void>;
}

/**
 * Spawns `deno run --allow-net SCRIPT '<spec JSON>'` on `cpu` and resolves with its `result` line;
 * killed after `timeoutMs`.
 */
export async function runLoadgen<R>(
  script: string,
  cpu: string,
  spec: object,
  hooks: LoadHooks,
  timeoutMs: number,
): Promise<R> {
  const { child, lines } = spawnPiped("loadgen", cpu, Deno.execPath(), [
    "run",
    "--allow-net",
    script,
    JSON.stringify(spec),
  ]);
  const killer = setTimeout(() => void child.stop(1_000), timeoutMs);
  try {
    for await (const line of lines) {
      let v: { event?: string };
      try {
        v = JSON.parse(line);
      } catch {
        continue;
      }
      if (v.event === "measure-start") await hooks.onStart?.(child.pid);
      else if (v.event === "measure-end") await hooks.onEnd?.(child.pid);
      else if (v.event === "result") return v as R;
    }
    throw new Error("the load generator exited without a result");
  } finally {
    clearTimeout(killer);
    await child.status;
  }
}
