/**
 * A throwaway `redis-server` for tests: started on a free loopback port with persistence off,
 * stopped by its PID (never a shared or system instance). `restart()` brings a fresh, empty one
 * back on the same port, as after a Redis crash.
 *
 * Needs Debian's `redis-server` on the PATH (`.ci/run` installs it); {@linkcode redisAvailable}
 * tells tests whether it is there.
 *
 * @module
 */

import { createClient } from "redis";
import {
  createRedisLink,
  type RedisClientLike,
  type RedisLink,
  type RedisLinkOptions,
} from "../../src/state/redis_link.ts";

/** A running test Redis. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (with the password when one was set). */
  readonly url: string;
  readonly pid: number;
  /** Stops it (SIGKILL by default: a crash, not a shutdown). Resolves once it has exited. */
  stop(signal?: Deno.Signal): Promise<void>;
  /** Starts a fresh, empty server on the same port (after {@linkcode TestRedis.stop}). */
  restart(): Promise<void>;
}

/** Options of {@linkcode startRedis}. */
export interface RedisOptions {
  /** `requirepass`: clients must authenticate. */
  readonly password?: string;
  /** Allows `DEBUG` from loopback (`DEBUG SLEEP`: a Redis that is slow, not gone). */
  readonly debug?: boolean;
}

/** Whether `redis-server` can be run here. */
export function redisAvailable(): boolean {
  try {
    return new Deno.Command("redis-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** A port nobody listens on right now. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

interface Running {
  readonly child: Deno.ChildProcess;
  readonly exited: Promise<void>;
}

async function launch(port: number, options: RedisOptions): Promise<Running> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--loglevel",
    "notice",
  ];
  if (options.password) args.push("--requirepass", options.password);
  if (options.debug) args.push("--enable-debug-command", "local");
  const child = new Deno.Command("redis-server", { args, stdout: "piped", stderr: "piped" }).spawn();
  let said = "";
  const ready = Promise.withResolvers<void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      said += chunk;
      if (said.includes("Ready to accept connections")) ready.resolve();
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status.then(async () => {
    await pumps;
    ready.reject(new Error(`redis-server exited before it was ready:\n${said}`));
  });
  const timer = setTimeout(() => ready.reject(new Error(`redis-server not ready in 10 s:\n${said}`)), 10_000);
  try {
    await ready.promise;
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { child, exited };
}

/** Starts a `redis-server` on a free loopback port (retrying if the port was taken meanwhile). */
export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  let port = 0;
  let running: Running | undefined;
  for (let i = 0; running === undefined; i++) {
    port = freePort();
    try {
      running = await launch(port, options);
    } catch (error) {
      if (i >= 4) throw error;
    }
  }
  let current: Running | undefined = running;
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    get pid() {
      return current?.child.pid ?? -1;
    },
    async stop(signal: Deno.Signal = "SIGKILL") {
      if (current === undefined) return;
      const r = current;
      current = undefined;
      try {
        r.child.kill(signal);
      } catch { /* already exited */ }
      await r.exited;
    },
    async restart() {
      if (current !== undefined) throw new Error("stop() the test Redis before restarting it");
      current = await launch(port, options);
    },
  };
}

/** A node-redis client factory for `url` as `main.ts` makes it (no offline queue, no own reconnects). */
export function redisConnector(url: string): () => RedisClientLike {
  return () =>
    createClient({
      url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: false, connectTimeout: 1000 },
    }) as unknown as RedisClientLike;
}

/** A started {@linkcode RedisLink} to `url` on real time, for tests. */
export async function openLink(
  url: string,
  options: { timeoutMs?: number; log?: RedisLinkOptions["log"] } = {},
): Promise<RedisLink> {
  const link = createRedisLink({
    connect: redisConnector(url),
    timeoutMs: options.timeoutMs ?? 500,
    clock: Date.now,
    random: Math.random,
    schedule: (fn, ms) => {
      const t = setTimeout(fn, ms);
      Deno.unrefTimer(t);
      return () => clearTimeout(t);
    },
    log: options.log ?? (() => {}),
  });
  await link.start();
  return link;
}
