/**
 * The {@linkcode GovernanceBus} of replicas sharing one Redis: messages on the pub/sub channel
 * `<prefix>events`, breaker ownership as `<prefix>brk:<id>` keys (`SET NX PX GET`), health
 * verdicts in the Redis state store. Every call has the link's deadline; while the link is down
 * nothing is published and claims fail at once (each replica's breakers then work alone).
 *
 * @module
 */

import type { RedisLink } from "../state/redis_link.ts";
import type { StateStore } from "../state/store.ts";
import type { GovernanceBus } from "./governance.ts";

/** Creates the bus on `link` (subscriptions are renewed with every session by the link). */
export function redisBus(link: RedisLink, keyPrefix: string, store: StateStore): GovernanceBus {
  const channel = `${keyPrefix}events`;
  const ms = (n: number) => String(Math.ceil(n));
  return {
    publish(message) {
      if (link.up) link.send(["PUBLISH", channel, message]).catch(() => {});
    },
    subscribe: (listener) => link.subscribe(channel, listener),
    async claim(key, owner, ttlMs) {
      const before = await link.send(["SET", keyPrefix + key, owner, "NX", "PX", ms(ttlMs), "GET"]);
      return typeof before === "string" ? before : null;
    },
    renew(key, owner, ttlMs) {
      link.send(["SET", keyPrefix + key, owner, "XX", "PX", ms(ttlMs)]).catch(() => {});
    },
    release(key) {
      link.send(["DEL", keyPrefix + key]).catch(() => {});
    },
    store,
  };
}
