/**
 * Breakers and health shared by every replica on one Redis: what one replica learns about an
 * instance, the others apply within one pub/sub hop (milliseconds; the tests hold it to 1 s).
 *
 * - **Breakers.** A replica whose breaker opens claims the instance's breaker for the open
 *   period (`SET brk:<id> <replica> NX PX`). The owner publishes `open`; every other replica
 *   holds its breaker open until the owner publishes the verdict of its half-open trials, so the
 *   configured `half-open-max-calls` trials run once for the cluster, not once per replica. If the
 *   owner goes silent (it died), the others take over after the open timeout plus a grace period.
 * - **Health.** Ejections and recoveries are published and kept in the state store
 *   (`["health", id]`), so a replica that starts late ejects at once what the others found down.
 * - **Resync.** After every reconnection each replica republishes what it holds and reads the
 *   stored health again: state lost with a restarted Redis is rebuilt from the replicas.
 *
 * Remote changes are applied with the listener muted, so they are never published back.
 *
 * @module
 */

import type { CircuitBreaker } from "../breaker/mod.ts";
import type { HealthState } from "../health/mod.ts";
import type { StateStore } from "../state/store.ts";
import type { RedisLink } from "../state/redis_link.ts";
import type { BreakerState, Clock } from "../types.ts";

/** What the sync needs of one instance. */
export interface GovernedInstance {
  readonly breaker: CircuitBreaker;
  readonly health: HealthState;
  /** The breaker's open period, ms. */
  readonly breakerTimeoutMs: number;
}

/** Options of {@linkcode createGovernanceSync}. */
export interface GovernanceSyncOptions {
  readonly link: RedisLink;
  readonly store: StateStore;
  readonly keyPrefix: string;
  /** This replica's id (host, pid and a random part: unique per process). */
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

/** Creates the sync and subscribes it to the events channel. */
export function createGovernanceSync(options: GovernanceSyncOptions): GovernanceSync {
  const { link, store, keyPrefix, replica, clock, lookup, ids, log } = options;
  const channel = `${keyPrefix}events`;
  let muted = false;
  const publish = (m: Message) => {
    if (!link.up) return;
    link.send(["PUBLISH", channel, JSON.stringify(m)]).catch(() => {});
  };
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
    const lease = String(inst.breakerTimeoutMs + OWNER_GRACE_MS);
    const key = `${keyPrefix}brk:${id}`;
    let owner: unknown;
    try {
      owner = await link.send(["SET", key, replica, "NX", "PX", lease, "GET"]);
    } catch {
      return; // Redis unavailable: this replica's breaker works alone meanwhile.
    }
    if (owner !== null && owner !== replica) {
      // Another replica opened it first and runs the trials: wait for its verdict.
      holdOpen(inst.breaker, inst.breakerTimeoutMs + OWNER_GRACE_MS);
      return;
    }
    if (owner === replica) link.send(["SET", key, replica, "XX", "PX", lease]).catch(() => {});
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

  link.subscribe(channel, (text) => {
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
        link.send(["DEL", `${keyPrefix}brk:${id}`]).catch(() => {});
      }
    },
    healthChanged(id, healthy, reason) {
      if (muted) return;
      publish({ r: replica, t: "health", id, healthy, reason });
      store.set(["health", id], { healthy, reason, replica } satisfies StoredHealth).catch(() => {});
    },
    async resync() {
      let stored: Array<{ key: string[]; value: StoredHealth }> = [];
      try {
        stored = await store.list<StoredHealth>(["health"]);
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
        if (!inst.health.healthy) {
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
