/**
 * The bench's child processes: the fake upstream, the real gateway (`main.ts` with a generated
 * config, stdout redirected to a log file), the bare baseline proxy, and the load generators.
 * Each is pinned to a core with `taskset` when it exists, tracked, and killed on exit.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

const HERE = new URL(".", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();
/** The V8 flags of `deno task start` (the binary bakes in the same), so the bench runs what users run. */
const START_V8_FLAGS = (denoJson.tasks as Record<string, string>).start.split(/\s+/)
  .filter((w) => w.startsWith("--v8-flags="));

/** A tracked child. */
export interface Child {
  readonly pid: number;
  readonly name: string;
  readonly status: Promise<Deno.CommandStatus>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<Child>();
/** Aborted by {@linkcode stopAll}: short-lived commands (wrk) pass it to `Deno.Command`. */
export const shutdown: AbortController = new AbortController();
let tasksetPath: string | undefined | null = null;

/** Whether a program is on PATH. */
export async function hasCommand(name: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** Detects `taskset` (and two cores) once; pinning is skipped otherwise. */
export async function initPinning(): Promise<boolean> {
  if (tasksetPath === null) {
    const cores = navigator.hardwareConcurrency ?? 1;
    tasksetPath = cores >= 2 && await hasCommand("taskset") ? "taskset" : undefined;
  }
  return tasksetPath !== undefined;
}

/** `[cmd, ...args]`, prefixed with `taskset -c <cpu>` when pinning is on. */
export function pinned(cpu: string, cmd: string, args: readonly string[]): [string, string[]] {
  return tasksetPath ? [tasksetPath, ["-c", cpu, cmd, ...args]] : [cmd, [...args]];
}

function track(name: string, proc: Deno.ChildProcess): Child {
  const child: Child = {
    pid: proc.pid,
    name,
    status: proc.status,
    async stop(graceMs = 5_000) {
      try {
        proc.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          proc.kill("SIGKILL");
        } catch { /* already gone */ }
      }, graceMs);
      await proc.status;
      clearTimeout(timer);
      children.delete(child);
    },
  };
  children.add(child);
  proc.status.then(() => children.delete(child));
  return child;
}

/** Spawns a tracked child with piped stdout (for its JSON lines). */
export function spawnPiped(name: string, cpu: string, cmd: string, args: readonly string[]) {
  const [c, a] = pinned(cpu, cmd, args);
  const proc = new Deno.Command(c, { args: a, stdin: "null", stdout: "piped", stderr: "inherit" }).spawn();
  return { child: track(name, proc), lines: lines(proc.stdout) };
}

/** Reads a byte stream as lines. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buf += text;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

/** Resolves with the first line that parses as JSON and passes `ok`, within `timeoutMs`. */
export async function firstJson<T>(
  it: AsyncGenerator<string>,
  ok: (v: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  );
  const read = (async () => {
    for await (const line of it) {
      try {
        const v = JSON.parse(line) as T;
        if (ok(v)) return v;
      } catch { /* not ours */ }
    }
    throw new Error("process exited before answering");
  })();
  return await Promise.race([read, timeout]);
}

/** Starts the fake upstream (two ports). */
export async function startUpstream(cpu: string, args: readonly string[]) {
  const { child, lines: out } = spawnPiped("upstream", cpu, DENO, [
    "run",
    "--allow-net",
    `${HERE}upstream.ts`,
    ...args,
  ]);
  const { ports } = await firstJson<{ ports: number[] }>(out, (v) => Array.isArray(v.ports), 20_000);
  void (async () => {
    for await (const _ of out) { /* drain */ }
  })();
  return { child, ports };
}

/** Starts the bare `Deno.serve` + `fetch` proxy. */
export async function startBaseline(cpu: string, upstreams: readonly string[]) {
  const { child, lines: out } = spawnPiped("baseline proxy", cpu, DENO, [
    "run",
    "--allow-net",
    `${HERE}baseline_proxy.ts`,
    "0",
    ...upstreams,
  ]);
  const { port } = await firstJson<{ port: number }>(out, (v) => typeof v.port === "number", 20_000);
  void (async () => {
    for await (const _ of out) { /* drain */ }
  })();
  return { child, port };
}

/** Options of {@linkcode startGateway}. */
export interface GatewayLaunch {
  readonly cpu: string;
  readonly config: string;
  readonly port: number;
  /** Where stdout (the JSON log) goes; stderr goes to `<log>.err`. */
  readonly log: string;
  /** Extra `deno run` flags, e.g. `--cpu-prof`. */
  readonly denoFlags?: readonly string[];
  /** Entry point to run instead of this checkout's `main.ts` (to compare two checkouts). */
  readonly main?: string;
}

/**
 * Starts `main.ts` the way `deno task start` does, with stdout redirected to a file by `sh` (the
 * `exec`s keep the gateway's pid the child's pid, so `/proc/<pid>` is the gateway itself), and
 * waits until `/healthz` answers.
 */
export async function startGateway(o: GatewayLaunch): Promise<Child> {
  const [cmd, args] = pinned(o.cpu, DENO, [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    ...START_V8_FLAGS,
    ...(o.denoFlags ?? []),
    o.main ?? MAIN,
    "--config",
    o.config,
    "--host",
    "127.0.0.1",
    "--port",
    String(o.port),
  ]);
  const proc = new Deno.Command("sh", {
    args: ["-c", 'exec "$@" >"$BENCH_LOG" 2>"$BENCH_LOG.err"', "sh", cmd, ...args],
    env: { BENCH_LOG: o.log, NO_COLOR: "1" },
    stdin: "null",
  }).spawn();
  const child = track("gateway", proc);
  const until = Date.now() + 30_000;
  let exited = false;
  child.status.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`gateway exited at start; see ${o.log} and ${o.log}.err`);
    if (Date.now() > until) throw new Error(`gateway did not answer /healthz within 30 s; see ${o.log}`);
    try {
      const res = await fetch(`http://127.0.0.1:${o.port}/healthz`);
      await res.body?.cancel();
      if (res.ok) return child;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A free loopback port (bound and released; good enough on a quiet machine). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Stops every child still running (on exit, error or Ctrl-C). */
export async function stopAll(): Promise<void> {
  shutdown.abort();
  await Promise.all([...children].map((c) => c.stop(3_000)));
}
