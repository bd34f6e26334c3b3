/**
 * The gateway's connection to Redis, as a small state machine: **up** (commands go out, each
 * with the `timeout` deadline) or **down** (commands fail at once, so the request path falls back
 * without waiting). It owns its sessions: a session is one command connection plus one pub/sub
 * connection, made by the injected `connect` (node-redis' `createClient`, created in `main.ts`).
 *
 * - A session error, a closed socket or two deadlines missed in a row → down: the session is
 *   destroyed and a new one is tried after a backoff (100 ms doubling to 5 s, jittered).
 * - A new session counts as up only once it connected and answered `PING` within the deadline,
 *   so a Redis that answers garbage or very slowly stays down instead of flapping.
 * - Each transition is logged once (`state backend down` / `state backend up`) and reported to
 *   `onChange` (the `dairouter_state_backend_up` gauge, and the resync of shared state).
 * - A command sent with a `late` handler is followed past its deadline: Redis may still run it,
 *   and its reply, when it comes, goes to the handler, whose undo is sent on the same connection.
 *   A dropped session keeps its command connection open for such replies (until they are all
 *   in, at most {@linkcode LATE_REPLY_WAIT_MS}).
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Clock, Random, Schedule } from "../types.ts";

/** What the link needs of a node-redis client (the real one satisfies it). */
export interface RedisClientLike {
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: string, listener: (arg?: unknown) => void): unknown;
  sendCommand(args: readonly string[], options?: Record<string, unknown>): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
}

/** Options of {@linkcode createRedisLink}. */
export interface RedisLinkOptions {
  /** Makes a fresh, unconnected client (called twice per session: commands and pub/sub). */
  readonly connect: () => RedisClientLike;
  /** Deadline of every command, ms. */
  readonly timeoutMs: number;
  /** Deadline of one connection attempt, ms. @default {max(1000, 20 × timeoutMs)} */
  readonly connectTimeoutMs?: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly schedule: Schedule;
  /** Where transitions are reported (the logger). */
  readonly log: (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown>) => void;
}

/** A live link to Redis. */
export interface RedisLink {
  /** Whether commands are being sent (false: they fail at once). */
  readonly up: boolean;
  /** Why the link is down (the last error), or `undefined` while up. */
  readonly lastError: string | undefined;
  /**
   * Sends one command within the deadline; rejects at once while down. With `late`, a command
   * that missed the deadline is still followed: its reply, if it comes after all (Redis was slow,
   * not gone), is handed to `late`, and the command `late` returns, the undo of what the caller
   * gave up on, is sent on the same connection.
   */
  send(args: readonly string[], late?: Late): Promise<unknown>;
  /**
   * Runs a Lua script by its SHA-1: `command` is the whole `EVALSHA <sha> <numkeys> keys… args…`
   * (built by the caller in one array); when Redis does not know the script (`NOSCRIPT`, say
   * after a restart) it is sent again as `EVAL <text> …`. `late` as for `send`.
   */
  runScript(script: LuaScript, command: string[], late?: Late): Promise<unknown>;
  /** Delivers messages of `channel` (subscribed again on every new session). */
  subscribe(channel: string, listener: (message: string) => void): void;
  /** Called after every transition, with the new state. */
  onChange(listener: (up: boolean) => void): void;
  /** Makes the first session; resolves once it is up or has failed (within the connect deadline). */
  start(): Promise<void>;
  /** Destroys the session and stops reconnecting. */
  close(): void;
}

/**
 * What becomes of a reply that came after its command's deadline: the command that undoes it
 * (sent on the connection that answered, which stays open for it), or `undefined` for nothing.
 */
export type Late = (reply: unknown) => string[] | undefined;

/** A Lua script and its SHA-1 (computed once). */
export interface LuaScript {
  readonly text: string;
  readonly sha: string;
}

/** Prepares a script: its SHA-1 as Redis computes it. */
export function luaScript(text: string): LuaScript {
  return { text, sha: createHash("sha1").update(text).digest("hex") };
}

/** The error of a command refused while the link is down. */
export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
}

const MISSES_TO_DOWN = 2;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
/** How long a session dropped for missed deadlines still waits for the late replies it follows. */
export const LATE_REPLY_WAIT_MS = 5000;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Races `p` against a deadline of `ms` (the timer is cleared either way). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

interface Session {
  readonly cmd: RedisClientLike;
  readonly sub: RedisClientLike;
  /** Commands sent with a `late` handler and not answered yet. */
  following: number;
}

/** A command sent with a `late` handler, until it is answered or its deadline passes. */
interface Followed {
  readonly due: number;
  /** Whether its caller has its answer: the reply, an error or the deadline's rejection. */
  answered: boolean;
  /** Rejects the caller at the deadline. */
  readonly expire: () => void;
}

function destroy(c: RedisClientLike | undefined): void {
  try {
    c?.destroy();
  } catch { /* already closed, or never connected */ }
}

/**
 * Creates a link; nothing connects until {@linkcode RedisLink.start}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRedisLink } from "./redis_link.ts";
 * const link = createRedisLink({
 *   connect: () => { throw new Error("no Redis here"); },
 *   timeoutMs: 50, clock: () => 0, random: () => 0.5, schedule: () => () => {}, log: () => {},
 * });
 * await link.start();
 * assert.equal(link.up, false);
 * await assert.rejects(link.send(["PING"]), { name: "RedisUnavailableError" });
 * link.close();
 * ```
 */
export function createRedisLink(options: RedisLinkOptions): RedisLink {
  const { timeoutMs, clock, random, schedule, log } = options;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new RangeError(`Cannot create Redis link: "timeoutMs" must be > 0, received ${timeoutMs}`);
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? Math.max(1000, 20 * timeoutMs);
  const commandOptions = Object.freeze({ timeout: timeoutMs, rejectInFlight: true });
  const channels = new Map<string, (message: string) => void>();
  const listeners: Array<(up: boolean) => void> = [];
  let session: Session | undefined;
  let up = false;
  let closed = false;
  let misses = 0;
  let attempts = 0;
  let downSince = clock();
  let lastError: string | undefined = "not connected yet";
  let announcedDown = false;
  let cancelRetry = () => {};
  // Commands sent with a `late` handler are timed here, not by node-redis, which discards the
  // reply of a command it timed out. They share one deadline, so they fall due in the order they
  // were sent: one timer, armed for the oldest, serves them all (as node-redis' own deadlines do),
  // and a command answered in time costs no timer of its own.
  const followed: Followed[] = [];
  let cancelSweep: (() => void) | undefined;
  /** Sessions dropped while they still follow commands: their command connection stays open. */
  const retiring = new Map<Session, () => void>();

  const transition = (next: boolean, why?: string) => {
    if (next === up) return;
    up = next;
    if (next) {
      lastError = undefined;
      log("info", "state backend up", { event: "state", backend: "redis", downMs: clock() - downSince });
      announcedDown = false;
    } else {
      downSince = clock();
      lastError = why;
    }
    if (!next && !announcedDown) {
      announcedDown = true;
      log("error", "state backend down", { event: "state", backend: "redis", error: why });
    }
    for (const l of listeners) l(next);
  };

  /**
   * Destroys the command connection of a session that is no longer used, once it follows no
   * command — or `now` (waited long enough, or closing).
   */
  const retire = (s: Session, now = false) => {
    if (s.following > 0 && !now) {
      if (!retiring.has(s)) retiring.set(s, schedule(() => retire(s, true), LATE_REPLY_WAIT_MS));
      return;
    }
    retiring.get(s)?.();
    retiring.delete(s);
    destroy(s.cmd);
  };

  const drop = (why: string) => {
    const s = session;
    session = undefined;
    misses = 0;
    if (s) {
      destroy(s.sub);
      retire(s);
    }
    lastError = why;
    transition(false, why);
    retryLater();
  };

  const retryLater = () => {
    if (closed) return;
    cancelRetry();
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempts, 10));
    attempts++;
    cancelRetry = schedule(() => void open(), ceiling * (0.5 + random() / 2));
  };

  const open = async (): Promise<void> => {
    if (closed || session) return;
    let cmd: RedisClientLike | undefined;
    let sub: RedisClientLike | undefined;
    try {
      cmd = options.connect();
      sub = options.connect();
      const me: Session = { cmd, sub, following: 0 };
      for (const c of [cmd, sub]) {
        c.on("error", (e) => session === me && drop(messageOf(e)));
        c.on("end", () => session === me && drop("connection closed"));
      }
      await within(Promise.all([cmd.connect(), sub.connect()]), connectTimeoutMs, "connecting to Redis");
      await within(cmd.sendCommand(["PING"]), timeoutMs, "PING");
      for (const [channel, fn] of channels) {
        await within(sub.subscribe(channel, fn), connectTimeoutMs, "SUBSCRIBE");
      }
      if (closed) throw new Error("closed");
      session = me;
      attempts = 0;
      misses = 0;
      transition(true);
    } catch (error) {
      destroy(cmd);
      destroy(sub);
      lastError = messageOf(error);
      if (!announcedDown) {
        announcedDown = true;
        log("error", "state backend down", { event: "state", backend: "redis", error: lastError });
      }
      retryLater();
    }
  };

  const missed = (s: Session) => {
    if (session === s && ++misses >= MISSES_TO_DOWN) drop(`no answer within ${timeoutMs} ms`);
  };

  /** Marks `f` answered (false when it was already), and forgets the answered oldest ones. */
  const answer = (f: Followed) => {
    if (f.answered) return false;
    f.answered = true;
    while (followed.length > 0 && followed[0].answered) followed.shift();
    return true;
  };

  const sweep = () => {
    const now = clock();
    while (followed.length > 0 && followed[0].due <= now) {
      const f = followed.shift()!;
      if (answer(f)) f.expire();
    }
    cancelSweep = followed.length > 0 ? schedule(sweep, followed[0].due - now) : undefined;
  };

  /** Counts `reply` as followed on `s` until it settles: a dropped session stays open meanwhile. */
  const track = (s: Session, reply: Promise<unknown>) => {
    s.following++;
    const settled = () => {
      if (--s.following === 0 && retiring.has(s)) retire(s);
    };
    reply.then(settled, settled);
  };

  /** `send` with a `late` handler: no node-redis deadline, so that a late reply still arrives. */
  const follow = (s: Session, args: readonly string[], late: Late) =>
    new Promise<unknown>((resolve, reject) => {
      const f: Followed = {
        due: clock() + timeoutMs,
        answered: false,
        expire() {
          reject(new Error(`Redis gave no answer within ${timeoutMs} ms`));
          missed(s);
        },
      };
      const onReply = (reply: unknown) => {
        if (answer(f)) {
          misses = 0;
          return resolve(reply);
        }
        // Given up on: undone on the connection that answered (open even if dropped since).
        const undo = late(reply);
        if (undo !== undefined) track(s, s.cmd.sendCommand(undo));
      };
      const onError = (error: unknown) => answer(f) && reject(error);
      track(s, s.cmd.sendCommand(args).then(onReply, onError));
      followed.push(f);
      cancelSweep ??= schedule(sweep, timeoutMs);
    });

  const send = async (args: readonly string[], late?: Late): Promise<unknown> => {
    const s = session;
    if (s === undefined) throw new RedisUnavailableError(`Redis is unavailable: ${lastError}`);
    if (late !== undefined) return await follow(s, args, late);
    try {
      const reply = await s.cmd.sendCommand(args, commandOptions);
      misses = 0;
      return reply;
    } catch (error) {
      const timedOut = /timeout/i.test((error as Error)?.name ?? "") || /timed? ?out/i.test(messageOf(error));
      if (timedOut) missed(s);
      throw error;
    }
  };

  return {
    get up() {
      return up;
    },
    get lastError() {
      return lastError;
    },
    send,
    runScript(script, command, late) {
      return send(command, late).catch((error) => {
        if (!messageOf(error).startsWith("NOSCRIPT")) throw error;
        command[0] = "EVAL";
        command[1] = script.text;
        return send(command, late);
      });
    },
    subscribe(channel, listener) {
      channels.set(channel, listener);
      const s = session;
      if (s) s.sub.subscribe(channel, listener).catch((e) => session === s && drop(messageOf(e)));
    },
    onChange(listener) {
      listeners.push(listener);
    },
    start: () => open(),
    close() {
      closed = true;
      cancelRetry();
      cancelSweep?.();
      const s = session;
      session = undefined;
      destroy(s?.sub);
      if (s) retire(s, true);
      for (const r of [...retiring.keys()]) retire(r, true);
    },
  };
}
