/**
 * Closed-loop request load with Debian's `wrk` (one thread, keep-alive, `post.lua` for the body
 * and a machine-readable summary). Used when `wrk` is installed; the Deno load generator covers
 * the same scenarios otherwise.
 *
 * @module
 */

import { pinned, shutdown } from "./procs.ts";

const SCRIPT = new URL("./post.lua", import.meta.url).pathname;

/** One wrk run's figures, in the load generator's units. */
export interface WrkResult {
  readonly requests: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

interface WrkJson {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50Us: number;
  p99Us: number;
}

/** Runs `wrk` against `url` for `seconds` with `connections` keep-alive connections. */
export async function runWrk(
  cpu: string,
  url: string,
  body: string,
  connections: number,
  seconds: number,
): Promise<WrkResult> {
  const [cmd, args] = pinned(cpu, "wrk", [
    "-t1",
    `-c${connections}`,
    `-d${Math.max(1, Math.round(seconds))}s`,
    "--timeout",
    "10s",
    "-s",
    SCRIPT,
    url,
  ]);
  const out = await new Deno.Command(cmd, {
    args,
    env: { BENCH_BODY: body },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.any([AbortSignal.timeout((seconds + 30) * 1000), shutdown.signal]),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!out.success || !line) {
    throw new Error(`wrk failed (${out.code}): ${text}${new TextDecoder().decode(out.stderr)}`);
  }
  const j = JSON.parse(line.slice("BENCH_JSON ".length)) as WrkJson;
  return {
    requests: j.requests,
    // Socket errors and non-2xx/3xx answers; a read error also ends a response, so it counts once.
    errors: j.connect + j.read + j.write + j.status + j.timeout,
    elapsedMs: j.durationUs / 1000,
    p50Ms: j.p50Us / 1000,
    p99Ms: j.p99Us / 1000,
  };
}
