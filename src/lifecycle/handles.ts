/**
 * The outside world as the lifecycle sees it: every handle `main.ts` creates (clock, randomness,
 * fetch, sockets, signals, timers, stdout, files, Redis and KV connections) and passes down, so
 * that the start-up and shutdown logic of `src/lifecycle/` runs in tests on fakes.
 *
 * @module
 */

import type { ConfigFileAccess } from "../cluster/apply_config.ts";
import type { StateConfig } from "../config/types.ts";
import type { TcpConnect } from "../health/mod.ts";
import type { ServeFn } from "../http/listener.ts";
import type { ProcessReadings } from "../observe/process_metrics.ts";
import type { RedisLink, RedisLinkOptions } from "../state/redis_link.ts";
import type { StateStore } from "../state/store.ts";
import type { Clock, Random, Schedule } from "../types.ts";

/** The signals the gateway handles. */
export type SignalName = "SIGINT" | "SIGTERM" | "SIGHUP";

/** Handles to the outside world, created by `main.ts` (or a test). */
export interface ProcessHandles {
  readonly clock: Clock;
  readonly random: Random;
  readonly fetch: typeof fetch;
  /** Opens TCP connections for `health-check.type: tcp` probes. */
  readonly connect: TcpConnect;
  /** `Deno.serve`. */
  readonly serve: ServeFn;
  /** `Deno.addSignalListener`, for the signals this platform delivers (it ignores the others). */
  readonly onSignal: (signal: SignalName, listener: () => void) => void;
  /** A timer that keeps the process alive: the waits of the drain, the state saves. */
  readonly timer: Schedule;
  /** A timer that does not (Redis reconnection backoff, the load exchange). */
  readonly backgroundTimer: Schedule;
  /** Writes to stdout; resolves with the bytes written (partial writes are continued). */
  readonly stdout: (bytes: Uint8Array) => Promise<number>;
  /** Prints a line on stderr (errors that stop the start). */
  readonly stderr: (line: string) => void;
  /** Reads and writes the config file (the cluster's published configuration). */
  readonly files: ConfigFileAccess;
  /** The process's open files now (`server.max-connections`); absent when unknown. */
  readonly openFiles?: () => number | undefined;
  /** The process's open-file limit (the automatic `max-connections`). */
  readonly fileLimit?: number;
  /** Memory, CPU and start time of the process (`/metrics`, the console's header). */
  readonly process: Omit<ProcessReadings, "openFiles" | "fileLimit">;
  /** This host's name and this process's id (replica ids, temporary file names). */
  readonly hostname: string;
  readonly pid: number;
  /** Opens the link to `state.url` (`state.backend: redis`); throws on bad options. */
  readonly openRedis: (state: StateConfig, log: RedisLinkOptions["log"]) => RedisLink;
  /** Opens the Deno KV store at `path` (`state.backend: kv`). */
  readonly openKv: (path: string) => Promise<StateStore>;
}

/**
 * Resolves with `value` after `ms` on `timer`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleepOn } from "./handles.ts";
 * const asked: number[] = [];
 * const sleep = sleepOn((fn, ms) => (asked.push(ms), fn(), () => {}));
 * await sleep(1000); // this timer fires at once
 * assert.deepEqual(asked, [1000]);
 * ```
 */
export function sleepOn(timer: Schedule): (ms: number) => Promise<void> {
  return (ms) => new Promise<void>((resolve) => void timer(resolve, ms));
}
