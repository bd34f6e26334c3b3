/**
 * Breakers and health shared by every process of a cluster — the replicas on one Redis, or the
 * workers of one host through their main thread (a {@linkcode GovernanceBus} each): what one
 * process learns about an instance, the others apply within one hop (milliseconds; the tests
 * hold it to 1 s).
 *
 * - **Breakers.** A replica whose breaker opens claims the instance's breaker for the open
 *   period (Redis: `SET brk:<id> <replica> NX PX`; workers: the main thread's table). The owner publishes `open`; every other replica
 *   holds its breaker open until the owner publishes the verdict of its half-open trials, so the
 *   configured `half-open-max-calls` trials run once for the cluster, not once per replica. If the
 *   owner goes silent (it died), the others take over after the open timeout plus a grace period.
 * - **Health.** Ejections and recoveries are published and, on Redis, kept in the state store
 *   (`["health", id]`), so a replica that starts late ejects at once what the others found down.
 * - **Resync.** After every reconnection each replica republishes what it holds and reads the
 *   stored health again: state lost with a restarted Redis is rebuilt from the replicas.
 *
 * Remote changes are applied with the listener muted, so they are never published back.
 *
 * @module
 */

import type { CircuitBreaker } from "../breaker/mod.ts";
import type { Gateway } from "../gateway.ts";
import type { HealthState } from "../health/mod.ts";
import type { StateStore } from "../state/store.ts";
import type { BreakerState, Clock } from "../types.ts";

/** What the sync needs of one instance. */
export interface GovernedInstance {
  readonly breaker: CircuitBreaker;
  readonly health: HealthState;
  /** The breaker's open period, ms. */
  readonly breakerTimeoutMs: number;
}

/** How the processes of a cluster reach each other (Redis, or a host's main thread). */
export interface GovernanceBus {
  /** Sends `message` to every other process (best effort: dropped while unreachable). */
  publish(message: string): void;
  /** Receives the other processes' messages. */
  subscribe(listener: (message: string) => void): void;
  /**
   * Takes `key` for `owner` for `ttlMs` unless another owner holds it; answers the holder
   * before the call (`null`: it was free, `owner` now holds it). Rejects when it cannot tell.
   */
  claim(key: string, owner: string, ttlMs: number): Promise<string | null>;
  /** Extends `owner`'s hold on `key` (best effort). */
  renew(key: string, owner: string, ttlMs: number): void;
  /** Frees `key` (best effort). */
  release(key: string): void;
  /** Where health verdicts are kept for processes that start later (absent: not kept). */
  readonly store?: StateStore;
}

/** Options of {@linkcode createGovernanceSync}. */
export interface GovernanceSyncOptions {
  readonly bus: GovernanceBus;
  /** This process's id (host, pid, worker and a random part: unique per process). */
  readonly replica: string;
  readonly clock: Clock;
  /** The live instance of an id (the newest runtime's). */
  readonly lookup: (id: string) => GovernedInstance | undefined;
  /** Every live instance id. */
  readonly ids: () => Iterable<string>;
  readonly log: (level: "info" | "warn", msg: string, fields: Record<string, unknown>) => void;
}

/** The hooks the gateway calls, and the resync. */
export interface GovernanceSync {
  /** A local breaker moved (the gateway's `breakerChanged`). */
  breakerChanged(id: string, to: BreakerState): void;
  /** A local health state moved (the gateway's `healthChanged`). */
  healthChanged(id: string, healthy: boolean, reason: string): void;
  /** Reads the stored health and republishes local state (at start and after a reconnection). */
  resync(): Promise<void>;
}

/** How long followers wait past the open timeout before they stop waiting for a silent owner. */
const OWNER_GRACE_MS = 2000;

type Message =
  | { r: string; t: "breaker"; id: string; state: BreakerState; forMs: number }
  | { r: string; t: "health"; id: string; healthy: boolean; reason: string };

interface StoredHealth {
  readonly healthy: boolean;
  readonly reason: string;
  readonly replica: string;
}

/** Creates the sync and subscribes it to the bus. */
export function createGovernanceSync(options: GovernanceSyncOptions): GovernanceSync {
  const { bus, replica, clock, lookup, ids, log } = options;
  let muted = false;
  const publish = (m: Message) => bus.publish(JSON.stringify(m));
  const quietly = (fn: () => void) => {
    muted = true;
    try {
      fn();
    } finally {
      muted = false;
    }
  };
  const holdOpen = (b: CircuitBreaker, forMs: number) =>
    quietly(() =>
      b.restore({ state: "open", failures: 0, successes: 0, openUntil: clock() + forMs, parkedUntil: 0 })
    );

  const opened = async (id: string, inst: GovernedInstance) => {
    const lease = inst.breakerTimeoutMs + OWNER_GRACE_MS;
    const key = `brk:${id}`;
    let owner: string | null;
    try {
      owner = await bus.claim(key, replica, lease);
    } catch {
      return; // Nobody to ask: this process's breaker works alone meanwhile.
    }
    if (owner !== null && owner !== replica) {
      // Another process opened it first and runs the trials: wait for its verdict.
      holdOpen(inst.breaker, lease);
      return;
    }
    if (owner === replica) bus.renew(key, replica, lease);
    publish({ r: replica, t: "breaker", id, state: "open", forMs: inst.breakerTimeoutMs });
  };

  const apply = (m: Message) => {
    if (m.r === replica) return;
    const inst = lookup(m.id);
    if (inst === undefined) return;
    if (m.t === "breaker") {
      if (m.state === "open") holdOpen(inst.breaker, m.forMs + OWNER_GRACE_MS);
      else if (m.state === "closed" && inst.breaker.state !== "closed") {
        quietly(() =>
          inst.breaker.restore({ state: "closed", failures: 0, successes: 0, openUntil: 0, parkedUntil: 0 })
        );
      }
      return;
    }
    const why = `${m.reason} (seen by replica ${m.r})`;
    quietly(() => m.healthy ? inst.health.readmit(why) : inst.health.eject(why));
  };

  bus.subscribe((text) => {
    try {
      apply(JSON.parse(text) as Message);
    } catch (error) {
      log("warn", "ignored a malformed cluster message", { event: "cluster", error: String(error) });
    }
  });

  return {
    breakerChanged(id, to) {
      if (muted) return;
      const inst = lookup(id);
      if (inst === undefined) return;
      if (to === "open") void opened(id, inst);
      else if (to === "closed") {
        publish({ r: replica, t: "breaker", id, state: "closed", forMs: 0 });
        bus.release(`brk:${id}`);
      }
    },
    healthChanged(id, healthy, reason) {
      if (muted) return;
      publish({ r: replica, t: "health", id, healthy, reason });
      bus.store?.set(["health", id], { healthy, reason, replica } satisfies StoredHealth).catch(() => {});
    },
    async resync() {
      const store = bus.store;
      let stored: Array<{ key: string[]; value: StoredHealth }> = [];
      try {
        stored = await store?.list<StoredHealth>(["health"]) ?? [];
      } catch {
        return;
      }
      for (const { key, value } of stored) {
        const inst = lookup(key[1]);
        if (inst && value.healthy === false && inst.health.healthy && value.replica !== replica) {
          quietly(() => inst.health.eject(`${value.reason} (seen by replica ${value.replica})`));
        }
      }
      for (const id of ids()) {
        const inst = lookup(id);
        if (inst === undefined) continue;
        if (!inst.health.healthy && store !== undefined) {
          const reason = inst.health.snapshot().reason;
          store.set(["health", id], { healthy: false, reason, replica } satisfies StoredHealth).catch(
            () => {},
          );
        }
        if (inst.breaker.state === "open") void opened(id, inst);
      }
    },
  };
}

/** What the sync reads of a running gateway: its newest instances and their breaker timeouts. */
export function gatewayInstances(
  g: Pick<Gateway, "state" | "runtime">,
): Pick<GovernanceSyncOptions, "lookup" | "ids"> {
  return {
    lookup(id) {
      const u = g.state.current.get(id);
      if (u === undefined) return undefined;
      const timeoutMs = g.runtime().config.services[u.service].circuitBreaker.timeoutMs;
      return { breaker: u.breaker, health: u.health, breakerTimeoutMs: timeoutMs };
    },
    ids: () => g.runtime().upstreams.map((u) => u.id),
  };
}
