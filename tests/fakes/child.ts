/**
 * Starts a long-running child process (a gateway, the demo, a compiled binary), follows its output
 * line by line and resolves once a line says it is ready — for tests that run programs the way a
 * user does.
 *
 * @module
 */

/** A running child. */
export interface Child<T> {
  /** What `ready` returned for the line that announced the child ready. */
  readonly ready: T;
  /** Every stdout and stderr line so far. */
  readonly lines: string[];
  /** Resolves with the exit code once the child has exited and its output is read. */
  readonly exited: Promise<number>;
  /** Sends `signal` unless the child has already exited. */
  kill(signal: Deno.Signal): void;
}

/** Options of {@linkcode spawnChild}. */
export interface SpawnOptions<T> {
  readonly args: readonly string[];
  readonly cwd?: string | URL;
  readonly env?: Record<string, string>;
  /** Returns a value for the line that says the child is ready, else undefined. */
  readonly ready: (line: string) => T | undefined;
  /** @default {60000} */
  readonly timeoutMs?: number;
}

/**
 * Runs `command` and resolves once `ready` recognises a line of its output. If the child exits or
 * stays silent past the deadline, it is killed and the promise rejects with everything it said.
 */
export async function spawnChild<T>(command: string, options: SpawnOptions<T>): Promise<Child<T>> {
  const child = new Deno.Command(command, {
    args: [...options.args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const started = Promise.withResolvers<T>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      for (let nl; (nl = buf.indexOf("\n")) >= 0; buf = buf.slice(nl + 1)) {
        const line = buf.slice(0, nl);
        lines.push(line);
        const value = options.ready(line);
        if (value !== undefined) started.resolve(value);
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let done = false;
  const exited = child.status.then(async (s) => (done = true, await pumps, s.code));
  const kill = (signal: Deno.Signal) => done || child.kill(signal);
  exited.then(() => started.reject(new Error(`${command} exited before it was ready:\n${lines.join("\n")}`)));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = setTimeout(
    () => started.reject(new Error(`${command} not ready within ${timeoutMs} ms:\n${lines.join("\n")}`)),
    timeoutMs,
  );
  try {
    return { ready: await started.promise, lines, exited, kill };
  } catch (error) {
    kill("SIGKILL");
    await exited;
    throw error;
  } finally {
    clearTimeout(deadline);
  }
}
