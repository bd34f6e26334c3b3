/**
 * Admin changes reach every replica: the replica that applied a change through the admin API
 * publishes its config file's text as a versioned document (`<prefix>config`: `rev`, `yaml`,
 * `by`, `at`) and announces the revision on `<prefix>config-events`. Every other replica fetches
 * the document, validates it with its own loader (its own environment and key files) and only
 * then applies it — an invalid document is logged and ignored, the running config stays. At
 * start and after a reconnection a replica applies a document newer than the one it runs.
 *
 * A Redis that lost the document (restarted without persistence) must not restart the count: a
 * new revision is numbered past both the stored one and the publisher's own, or replicas that ran
 * revision N would ignore the next N changes. After a reconnection a replica puts back the
 * document it runs when Redis holds an older one, and publishes an admin change it made while
 * Redis was away — unless another replica published a later one meanwhile (the later change wins).
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
  /**
   * Publishes `yaml` (an admin change applied here) as the next revision. While Redis is away it
   * rejects, and the change is published after the reconnection (see the module doc).
   */
  publish(yaml: string): Promise<number>;
  /** Applies the stored document when it is newer than what runs here. */
  resync(): Promise<void>;
}

/**
 * Numbers the document past both the stored revision and the publisher's (`ARGV[4]`), stores it
 * and announces it, atomically.
 */
const PUBLISH_LUA = `
local stored = tonumber(redis.call("HGET", KEYS[1], "rev") or "0")
local rev = math.max(stored, tonumber(ARGV[4])) + 1
redis.call("HSET", KEYS[1], "rev", rev, "yaml", ARGV[1], "by", ARGV[2], "at", ARGV[3])
redis.call("PUBLISH", KEYS[2], rev)
return rev
`;

/** Puts back revision `ARGV[4]` unless Redis holds that one or a later one; announces it. */
const RESTORE_LUA = `
local stored = tonumber(redis.call("HGET", KEYS[1], "rev") or "0")
if stored >= tonumber(ARGV[4]) then return stored end
redis.call("HSET", KEYS[1], "rev", ARGV[4], "yaml", ARGV[1], "by", ARGV[2], "at", ARGV[3])
redis.call("PUBLISH", KEYS[2], ARGV[4])
return tonumber(ARGV[4])
`;

/** A config document: its text, who published it and when (ms). */
interface Doc {
  readonly yaml: string;
  readonly by: string;
  readonly at: number;
}

/** Creates the config sync and subscribes it. */
export function createConfigSync(options: ConfigSyncOptions): ConfigSync {
  const { link, keyPrefix, replica, clock, apply, log } = options;
  const docKey = `${keyPrefix}config`;
  const channel = `${keyPrefix}config-events`;
  let revision = 0;
  /** The document of `revision`, to put back into a Redis that lost it. */
  let running: Doc | undefined;
  /** An admin change made here while Redis was away, published once it is back. */
  let unpublished: Doc | undefined;
  let chain: Promise<void> = Promise.resolve();

  const script = async (lua: string, doc: Doc, rev: number): Promise<number> =>
    Number(
      await link.send(["EVAL", lua, "2", docKey, channel, doc.yaml, doc.by, String(doc.at), String(rev)]),
    );

  const applyDoc = async (rev: number, doc: Doc) => {
    try {
      await apply(doc.yaml, rev, doc.at);
    } catch (error) {
      log("warn", "cluster configuration rejected; keeping the running one", {
        event: "config",
        revision: rev,
        by: doc.by,
        error: (error as Error).message,
      });
    }
    // A rejected document would be rejected again: it counts as seen.
    revision = rev;
    running = doc;
  };

  const publishDoc = async (doc: Doc): Promise<number> => {
    const rev = await script(PUBLISH_LUA, doc, revision);
    revision = Math.max(revision, rev);
    running = doc;
    return rev;
  };

  const fetchAndApply = async () => {
    const reply = await link.send(["HMGET", docKey, "rev", "yaml", "by", "at"]) as (string | null)[];
    const rev = Number(reply[0] ?? 0);
    const stored = reply[1] === null
      ? undefined
      : { yaml: reply[1], by: reply[2] ?? "", at: Number(reply[3] ?? 0) };
    const newer = rev > revision && stored !== undefined;
    const mine = unpublished;
    if (mine !== undefined) {
      unpublished = undefined;
      if (!newer || stored.at <= mine.at) {
        const published = await publishDoc(mine).catch((error) => {
          unpublished ??= mine; // Redis went away again: the next reconnection tries again
          throw error;
        });
        log("info", "configuration published to the cluster", { event: "config", revision: published });
        return;
      }
      log("warn", "an admin change made while Redis was unavailable was replaced by a later one", {
        event: "config",
        revision: rev,
        by: stored.by,
      });
    }
    if (newer) return await applyDoc(rev, stored);
    if (rev < revision && running !== undefined) await script(RESTORE_LUA, running, revision);
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
      const doc = { yaml, by: replica, at: clock() };
      try {
        return await publishDoc(doc);
      } catch (error) {
        unpublished = doc;
        throw error;
      }
    },
    resync: serially,
  };
}
