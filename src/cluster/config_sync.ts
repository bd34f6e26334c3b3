/**
 * Admin changes reach every replica: the replica that applied a change through the admin API
 * publishes its config file's text as a versioned document (`<prefix>config`: `rev`, `yaml`,
 * `by`, `at`) and announces the revision on `<prefix>config-events`. Every other replica fetches
 * the document, validates it with its own loader (its own environment and key files) and only
 * then applies it — an invalid document is logged and ignored, the running config stays. At
 * start and after a reconnection a replica applies a document newer than the one it runs.
 *
 * @module
 */

import type { RedisLink } from "../state/redis_link.ts";
import type { Clock } from "../types.ts";

/** Options of {@linkcode createConfigSync}. */
export interface ConfigSyncOptions {
  readonly link: RedisLink;
  readonly keyPrefix: string;
  readonly replica: string;
  readonly clock: Clock;
  /**
   * Validates and applies a document's YAML (throws when it is invalid). `at` is when the
   * document was published (ms), for a replica that must decide whether its file is newer.
   */
  readonly apply: (yaml: string, rev: number, at: number) => Promise<void>;
  readonly log: (level: "info" | "warn", msg: string, fields: Record<string, unknown>) => void;
}

/** The config side of the cluster. */
export interface ConfigSync {
  /** The cluster revision this replica runs (0: its own file, never changed through the cluster). */
  readonly revision: number;
  /** Publishes `yaml` (an admin change applied here) as the next revision. */
  publish(yaml: string): Promise<number>;
  /** Applies the stored document when it is newer than what runs here. */
  resync(): Promise<void>;
}

/** Bumps the revision, stores the document and announces it, atomically. */
const PUBLISH_LUA = `
local rev = redis.call("HINCRBY", KEYS[1], "rev", 1)
redis.call("HSET", KEYS[1], "yaml", ARGV[1], "by", ARGV[2], "at", ARGV[3])
redis.call("PUBLISH", KEYS[2], rev)
return rev
`;

/** Creates the config sync and subscribes it. */
export function createConfigSync(options: ConfigSyncOptions): ConfigSync {
  const { link, keyPrefix, replica, clock, apply, log } = options;
  const docKey = `${keyPrefix}config`;
  const channel = `${keyPrefix}config-events`;
  let revision = 0;
  let chain: Promise<void> = Promise.resolve();

  const fetchAndApply = async () => {
    const reply = await link.send(["HMGET", docKey, "rev", "yaml", "by", "at"]) as (string | null)[];
    const rev = Number(reply[0] ?? 0);
    if (!(rev > revision) || reply[1] === null) return;
    try {
      await apply(reply[1], rev, Number(reply[3] ?? 0));
      revision = rev;
    } catch (error) {
      log("warn", "cluster configuration rejected; keeping the running one", {
        event: "config",
        revision: rev,
        by: reply[2],
        error: (error as Error).message,
      });
      revision = rev; // the same document would be rejected again
    }
  };
  const serially = () => {
    chain = chain.then(fetchAndApply).catch(() => {});
    return chain;
  };

  link.subscribe(channel, (message) => {
    if (Number(message) > revision) void serially();
  });

  return {
    get revision() {
      return revision;
    },
    async publish(yaml) {
      const rev = Number(
        await link.send(["EVAL", PUBLISH_LUA, "2", docKey, channel, yaml, replica, String(clock())]),
      );
      revision = Math.max(revision, rev);
      return rev;
    },
    resync: serially,
  };
}
