/**
 * The load exchange of replicas through Redis: one script call per `state.share-interval` writes
 * this replica's report per instance into the hash `<prefix>load` (field `<replica>|<instance>`,
 * value `<redis ms> <in flight> <latency> <errors>`), drops the fields nobody refreshed for
 * `staleMs` (a replica that stopped), and answers the other replicas' fresh fields, which
 * {@linkcode aggregatePeers} sums and averages. Timestamps are Redis time, so replicas' clocks
 * need not agree.
 *
 * @module
 */

import { luaScript, type RedisLink } from "../state/redis_link.ts";
import { aggregatePeers, type LoadExchange, type LoadReport } from "./load_share.ts";

const LOAD_LUA = luaScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me, stale = ARGV[1] .. "|", tonumber(ARGV[2])
for i = 3, #ARGV, 2 do redis.call("HSET", KEYS[1], me .. ARGV[i], now .. " " .. ARGV[i + 1]) end
redis.call("PEXPIRE", KEYS[1], stale * 10)
local all = redis.call("HGETALL", KEYS[1])
local out, gone = {}, {}
for i = 1, #all, 2 do
  local at = tonumber(string.match(all[i + 1], "^%d+"))
  if not at or now - at > stale then
    gone[#gone + 1] = all[i]
  elseif string.sub(all[i], 1, #me) ~= me then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
for i = 1, #gone do redis.call("HDEL", KEYS[1], gone[i]) end
return out
`);

/**
 * Creates the exchange of `replica` on `link`; a report older than `staleMs` (a replica that
 * stopped reporting) is dropped.
 */
export function redisLoadExchange(
  link: RedisLink,
  keyPrefix: string,
  replica: string,
  staleMs: number,
): LoadExchange {
  const key = `${keyPrefix}load`;
  return async (reports) => {
    const cmd = ["EVALSHA", LOAD_LUA.sha, "1", key, replica, String(Math.ceil(staleMs))];
    for (const [id, inFlight, latency, errors] of reports) cmd.push(id, `${inFlight} ${latency} ${errors}`);
    const raw = await link.runScript(LOAD_LUA, cmd) as string[];
    const views = new Map<string, LoadReport[]>();
    for (let i = 0; i < raw.length; i += 2) {
      const field = raw[i];
      const bar = field.indexOf("|");
      const [, inFlight, latency, errors] = raw[i + 1].split(" ").map(Number);
      const from = field.slice(0, bar);
      let view = views.get(from);
      if (view === undefined) views.set(from, view = []);
      view.push([field.slice(bar + 1), inFlight, latency, errors]);
    }
    return aggregatePeers(views.values());
  };
}
