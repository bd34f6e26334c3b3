/**
 * Fakes of the outside world for the lifecycle's tests: hand-driven timers, a `Deno.serve` that
 * opens no socket, and a full set of {@linkcode ProcessHandles} around them.
 *
 * @module
 */

import type { ServeFn } from "../http/listener.ts";
import { createMemoryStore } from "../state/memory.ts";
import type { StateStore } from "../state/store.ts";
import type { Schedule } from "../types.ts";
import type { ProcessHandles, SignalName } from "./handles.ts";

/** Lets every promise chain that can run, run. */
export const settle = (): Promise<void> => new Promise<void>((r) => setTimeout(r, 0));

/** Timers that fire only when the test advances time. */
export function manualTime() {
  let now = 0;
  const due: { at: number; fire: () => void }[] = [];
  const schedule: Schedule = (fire, ms) => {
    const t = { at: now + ms, fire };
    due.push(t);
    return () => void (due.includes(t) && due.splice(due.indexOf(t), 1));
  };
  return {
    now: () => now,
    schedule,
    sleep: (ms: number) => new Promise<void>((fire) => void schedule(fire, ms)),
    /** Moves time on by `ms`, firing what falls due in order, and lets the promise chains run. */
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const next = due.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        now = next.at;
        due.splice(due.indexOf(next), 1);
        next.fire();
        await settle();
      }
      now = end;
      await settle();
    },
    pending: () => due.length,
  };
}

/** A server made by {@linkcode fakeServe}. */
export interface FakeServer {
  readonly options: Deno.ServeTcpOptions & { reusePort?: boolean };
  readonly handler: Deno.ServeHandler<Deno.NetAddr>;
  /** Calls of `shutdown()`. */
  shutdowns: number;
  /** Sends a request to the handler, as from 127.0.0.1. */
  request(path: string): Promise<Response>;
}

/** A `Deno.serve` that listens nowhere: it records each server and "binds" port 4000 + n. */
export function fakeServe(): { serve: ServeFn; servers: FakeServer[] } {
  const servers: FakeServer[] = [];
  const serve: ServeFn = (options, handler) => {
    const addr: Deno.NetAddr = {
      transport: "tcp",
      hostname: options.hostname ?? "0.0.0.0",
      port: 4000 + servers.length,
    };
    const server: FakeServer = {
      options,
      handler,
      shutdowns: 0,
      request: async (path) =>
        await handler(new Request(`http://${addr.hostname}:${addr.port}${path}`), {
          remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 50000 },
          completed: Promise.resolve(),
        }),
    };
    servers.push(server);
    options.onListen?.(addr);
    return {
      addr,
      finished: new Promise<void>(() => {}),
      shutdown: () => (server.shutdowns++, Promise.resolve()),
      ref() {},
      unref() {},
      [Symbol.asyncDispose]: () => Promise.resolve(),
    } as unknown as Deno.HttpServer<Deno.NetAddr>;
  };
  return { serve, servers };
}

/** {@linkcode ProcessHandles} on fakes, and what the code under test did with them. */
export function fakeHandles(overrides: Partial<ProcessHandles> = {}) {
  const time = manualTime();
  const { serve, servers } = fakeServe();
  const signals = new Map<SignalName, () => void>();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const stores: (StateStore & { closed: boolean })[] = [];
  const decoder = new TextDecoder();
  const handles: ProcessHandles = {
    clock: time.now,
    random: () => 0.5,
    fetch: () => Promise.reject(new Error("no network in this test")),
    connect: () => Promise.reject(new Error("no network in this test")),
    serve,
    onSignal: (signal, listener) => void signals.set(signal, listener),
    timer: time.schedule,
    backgroundTimer: () => () => {},
    stdout: (b) => (stdout.push(decoder.decode(b)), Promise.resolve(b.length)),
    stderr: (line) => void stderr.push(line),
    files: {
      mtime: () => Promise.resolve(0),
      readTextFile: () => Promise.reject(new Error("no files in this test")),
      writeTextFile: () => Promise.reject(new Error("no files in this test")),
      rename: () => Promise.reject(new Error("no files in this test")),
    },
    hostname: "test-host",
    pid: 1,
    process: {
      memory: () => ({ rss: 100e6, heapUsed: 20e6, heapTotal: 30e6, external: 1e6 }),
      cpuSeconds: () => 1,
      startSeconds: time.now() / 1000,
    },
    openRedis: () => {
      throw new Error("no Redis in this test");
    },
    openKv: () => {
      const store = Object.assign(createMemoryStore(time.now), { closed: false });
      store.close = () => void (store.closed = true);
      stores.push(store);
      return Promise.resolve(store);
    },
    ...overrides,
  };
  /** The log messages written so far (one JSON object per line). */
  const logged = () =>
    stdout.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
  return { handles, time, servers, signals, stderr, stores, logged };
}
