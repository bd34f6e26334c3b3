/**
 * The Lua script that decides every limit scope of one request inside Redis, atomically, on
 * Redis server time, with the algorithms of `redis_limits_algorithms_lua.ts` (a port of
 * `src/limiter/`, so that a cluster decides exactly as one process would).
 *
 * One call decides a whole batch of requests (every request that asked in the same turn of the
 * event loop), in order, as if each had made its own call at the same instant: a key shared by
 * the batch (the global and service limits are in every request) is read once and written once.
 *
 * Call: `EVALSHA sha 2m state_1 ws_1 … state_m ws_m  now op at nconf m nreq
 * [alg cap rate windowMs period fraction ttlMs] × nconf  [conf] × m  request × nreq`, where
 * `request` = `k e [key cost] × (k + e)`.
 * - `now`: "" for Redis `TIME` (production), or a fixed ms time (tests compare with TypeScript).
 * - `op`:
 *   - `take`: per request, checks 1..k are its scopes, all-or-nothing — nothing is taken unless
 *     every one allows its `cost`; each of the `e` checks after them (an instance's own limit,
 *     decided in the same call) is then taken on its own, only if the scopes admitted;
 *   - `adjust`: corrects what an admitted request took (token limits: the estimate reserved
 *     before the call, corrected from the reported usage after it) — `cost` is signed. A charge
 *     (> 0) always applies: the state may go past its capacity (into debt), and later requests
 *     wait for it. A refund (< 0) never leaves more than a fresh state: buckets clip at their
 *     capacity, the fixed window gives back only within the admission's window, the sliding
 *     window only from the admission's own entry (time `at`). The caller refunds no more than it
 *     reserved;
 *   - `rewarm`: restarts each key's warm-up ramp, as `KeyedLimiter.restartWarmUp`.
 * - `at`: for `adjust`, the Redis time of the admission (the `take` reply's first element).
 * - `alg`: 1 token bucket, 2 leaky bucket, 3 sliding window, 4 fixed window.
 * - `conf`: the 1-based config of each key; `key`: a 1-based key number.
 * - `ws_i`: the limiter's warm-up start, set once (`SET NX`) when warm-up is configured, and
 *   expiring with the limiter's states (`ttlMs` after its last use): a limiter nobody used for
 *   that long starts over as a fresh one, ramp included — as a restarted process would.
 * - States are MessagePack (exact doubles); each state key expires `ttlMs` after its last write,
 *   by which time it would be back to a fresh state (the memory limiter's idle eviction).
 *
 * Reply of `take`: `{ now, r_1 … r_nreq }` — `now` the decision's time as `%.17g` text, each
 * `r` = `{ denied, decisive, [allowed retryAfterMs remaining resetMs], extra_1 … }`: `denied`
 * the 1-based index of the check that denied (0 when the scopes admitted), `decisive` the index
 * of the denying check, or of the tightest allowing one (0 for no scopes: its four numbers are
 * then absent), each `extra` four numbers too (only when the scopes admitted). The numbers are
 * whole (milliseconds, units left), -1 for an endless wait; the limit is the check's capacity,
 * which the caller knows. `adjust` and `rewarm` reply `{ now }`.
 *
 * @module
 */

import { ALGORITHMS_LUA } from "./redis_limits_algorithms_lua.ts";

/** The script text (sent once; then called by its SHA-1). */
export const LIMITS_LUA = ALGORITHMS_LUA + `
local now
if ARGV[1] == "" then
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
else
  now = tonumber(ARGV[1])
end
local op, at = ARGV[2], tonumber(ARGV[3])
local nconf, nkey, nreq = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

-- The configs, then each key's config.
local confs = {}
local o = 6
for j = 1, nconf do
  local c = {
    alg = tonumber(ARGV[o + 1]), cap = tonumber(ARGV[o + 2]), per_ms = tonumber(ARGV[o + 3]) / 1000,
    win = tonumber(ARGV[o + 4]), ttl = tonumber(ARGV[o + 7]),
  }
  local p = tonumber(ARGV[o + 5])
  if p > 0 then c.w = { p = p, fi = tonumber(ARGV[o + 6]) } end
  confs[j] = c
  o = o + 7
end
local conf_of = {}
for i = 1, nkey do conf_of[i] = confs[tonumber(ARGV[o + i])] end
o = o + nkey

-- Each key's state, read once per call however many requests share it (the global and service
-- limits are in every request), written once at the end if it changed.
local states, dirty = {}, {}
local function state(i)
  local s = states[i]
  if s then return s end
  local c = conf_of[i]
  local ws = now
  if c.w then
    ws = tonumber(redis.call("SET", KEYS[2 * i], fmt(now), "NX", "GET") or now)
    redis.call("PEXPIRE", KEYS[2 * i], c.ttl)
  end
  s = decode(c, redis.call("GET", KEYS[2 * i - 1])) or init(c, now, ws)
  states[i] = s
  return s
end

-- A bucket in debt (a charge past its capacity) lives until the debt is paid, too.
local function ttl_of(c, s)
  if c.alg > 2 then return c.ttl end
  local over = c.alg == 1 and -s[3] or s[3] - c.cap
  if over <= 0 then return c.ttl end
  return c.ttl + ceil(over / c.per_ms)
end
local function int(x) if x == INF then return -1 end return x end

local reply = { fmt(now) }
for r = 1, nreq do
  local k, e = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])
  o = o + 2
  if op ~= "take" then
    for j = 1, k do
      local i, d = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])
      local c = conf_of[i]
      if op == "rewarm" then states[i] = rewarm(c, state(i), now) else states[i] = adjust(c, state(i), now, at, d) end
      dirty[i] = true
      o = o + 2
    end
  else
    -- The request's scopes, all-or-nothing: the denying decision, else the tightest allowing one
    -- (least of its limit left, the first on ties).
    local nxt, keys = {}, {}
    local denied, decisive, best = 0, 0, nil
    for j = 1, k do
      local i, cost = tonumber(ARGV[o + 2 * j - 1]), tonumber(ARGV[o + 2 * j])
      local ns, d = step(conf_of[i], nxt[i] or state(i), now, cost)
      if d[1] == 0 then
        denied, decisive, best = j, j, d
        break
      end
      nxt[i] = ns
      keys[#keys + 1] = i
      if not best or d[4] / d[3] < best[4] / best[3] then decisive, best = j, d end
    end
    o = o + 2 * k
    local out = { denied, decisive }
    if best then out[3], out[4], out[5], out[6] = best[1], int(best[2]), best[4], int(best[5]) end
    if denied == 0 then
      for _, i in ipairs(keys) do
        states[i] = nxt[i]
        dirty[i] = true
      end
      -- Checks after the scopes (an instance's own limit): each on its own, once they admitted.
      for j = 1, e do
        local i, cost = tonumber(ARGV[o + 2 * j - 1]), tonumber(ARGV[o + 2 * j])
        local ns, d = step(conf_of[i], state(i), now, cost)
        if d[1] == 1 then
          states[i] = ns
          dirty[i] = true
        end
        local n = #out
        out[n + 1], out[n + 2], out[n + 3], out[n + 4] = d[1], int(d[2]), d[4], int(d[5])
      end
    end
    o = o + 2 * e
    reply[r + 1] = out
  end
end
for i in pairs(dirty) do
  redis.call("SET", KEYS[2 * i - 1], encode(conf_of[i], states[i]), "PX", ttl_of(conf_of[i], states[i]))
end
return reply
`;
