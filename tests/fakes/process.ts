/**
 * Runs the real `main.ts` as a child process (as systemd would run the binary) and follows its
 * JSON log lines, for tests of signals, reloads and the CLI.
 *
 * @module
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A gateway child process. */
export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  kill(signal: Deno.Signal): void;
  /** Waits for a log line matching `re` (bounded). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Stops reading stdout after the current read, as a paused terminal or a stuck log driver does. */
  pauseStdout(): void;
  resumeStdout(): void;
}

/**
 * Runs `main.ts` (or `options.entry`, a module that calls its `main`) with `args` and resolves
 * once it logs that it is listening.
 */
export async function spawnGateway(
  args: string[],
  env: Record<string, string> = {},
  options: { readonly fdLimit?: number; readonly permissions?: string[]; readonly entry?: string } = {},
): Promise<GatewayProcess> {
  const argv = [
    "run",
    ...(options.permissions ?? ["-A"]),
    options.entry ?? MAIN,
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    ...args,
  ];
  // A lower open-file limit (soft and hard, so Deno cannot raise it) for resource-exhaustion tests.
  const child = new Deno.Command(options.fdLimit ? "bash" : Deno.execPath(), {
    args: options.fdLimit
      ? ["-c", `ulimit -n ${options.fdLimit} && exec "$0" "$@"`, Deno.execPath(), ...argv]
      : argv,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let paused: PromiseWithResolvers<void> | undefined;
  // Reads straight from the pipe (no stream in between that would read ahead while paused).
  const pump = async (stream: ReadableStream<Uint8Array>, pausable: boolean) => {
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      if (pausable) await paused?.promise;
      const { done, value } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        for (const w of waiters.splice(0)) w();
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout, true), pump(child.stderr, false)]);
  const exited = child.status.then(async (s) => {
    await pumps;
    for (const w of waiters.splice(0)) w();
    return s.code;
  });
  let done = false;
  exited.then(() => (done = true));
  const waitFor = async (re: RegExp, timeoutMs = 15_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return hit;
      if (done) throw new Error(`gateway exited before logging ${re}:\n${lines.join("\n")}`);
      if (Date.now() > until) throw new Error(`timed out waiting for ${re}:\n${lines.join("\n")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        waiters.push(() => (clearTimeout(t), r()));
      });
    }
  };
  const listening = await waitFor(/"msg":"listening"/);
  const url = JSON.parse(listening).address as string;
  return {
    url,
    pid: child.pid,
    lines,
    exited,
    kill: (s) => child.kill(s),
    waitFor,
    pauseStdout: () => void (paused ??= Promise.withResolvers()),
    resumeStdout: () => (paused?.resolve(), paused = undefined),
  };
}

/** Runs `main.ts` to completion (for `check`, `--version`, `--help`). */
export async function runCli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
