/**
 * The Lua script that decides every limit scope of one request inside Redis, atomically, on
 * Redis server time — the four algorithms of `src/limiter/` (token bucket, leaky bucket, sliding
 * window, fixed window) and their warm-up ramp, ported line for line from the TypeScript step
 * functions (`bucket.ts`, `sliding_window.ts`, `fixed_window.ts`, `warm_up.ts`), so that a cluster
 * decides exactly as one process would. `redis_limits_test.ts` replays seeded traffic through
 * both and requires equal decisions.
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

/** The script text (sent once; then called by its SHA-1). */
export const LIMITS_LUA = `
local EPS = 1e-9
local INF = math.huge
local floor, ceil, max, min, sqrt = math.floor, math.ceil, math.max, math.min, math.sqrt

local function ceil_ms(ms)
  if ms == INF then return INF end
  if ms <= EPS then return 0 end
  return ceil(ms - EPS)
end
local function whole(a) return max(0, floor(a + EPS)) end

-- warm-up ramp (warm_up.ts); w = { p = periodMs, fi = initialFraction } or nil
local function active(w) return w ~= nil and w.p > 0 and w.fi < 1 end
local function warm_fraction(w, start, t)
  if not active(w) or t >= start + w.p then return 1 end
  if t <= start then return w.fi end
  return w.fi + (1 - w.fi) * (t - start) / w.p
end
local function anti(w, start, t)
  local fi, p = w.fi, w.p
  if t <= start then return fi * (t - start) end
  if t >= start + p then return p * (1 + fi) / 2 + (t - start - p) end
  local x = t - start
  return fi * x + (1 - fi) * x * x / (2 * p)
end
local function warm_integral(w, start, a, b)
  if b <= a then return 0 end
  if not active(w) or a >= start + w.p then return b - a end
  return anti(w, start, b) - anti(w, start, a)
end
local function warm_time_for_area(w, start, a, amount)
  if amount <= 0 then return a end
  if not active(w) then return a + amount end
  local e = start + w.p
  if a >= e then return a + amount end
  local fi = w.fi
  if a < start then
    local flat = fi * (start - a)
    if amount <= flat then return a + amount / fi end
    amount = amount - flat
    a = start
  end
  local f0 = warm_fraction(w, start, a)
  local ramp = (f0 + 1) / 2 * (e - a)
  if amount > ramp then return e + (amount - ramp) end
  local k = (1 - fi) / w.p
  return a + 2 * amount / (f0 + sqrt(f0 * f0 + 2 * k * amount))
end
local function warm_time_for_fraction(w, start, target)
  if target > 1 + 1e-12 then return INF end
  if not active(w) or target <= w.fi then return -INF end
  return start + w.p * (min(target, 1) - w.fi) / (1 - w.fi)
end

local function allowed(limit, remaining, reset) return { 1, 0, limit, max(0, remaining), reset } end
local function denied(limit, remaining, retry, reset) return { 0, max(1, retry), limit, max(0, remaining), reset } end

-- buckets (bucket.ts, token_bucket.ts, leaky_bucket.ts); s = { ws, t, amount }
local function b_initial(c, f) if c.alg == 1 then return c.cap * f end return c.cap * (1 - f) end
local function b_advance(c, s, now)
  if now <= s[2] then
    local a = s[3]
    if c.alg == 1 then a = min(c.cap, a) end
    return { s[1], s[2], a }
  end
  local units = c.per_ms * warm_integral(c.w, s[1], s[2], now)
  if c.alg == 1 then return { s[1], now, min(c.cap, s[3] + units) } end
  return { s[1], now, max(0, s[3] - units) }
end
local function b_shortfall(c, a, cost)
  if c.alg == 1 then
    if cost > c.cap + EPS then return INF end
    return cost - a
  end
  local target = c.cap - cost
  if target < -EPS then return INF end
  return a - target
end
local function b_wait(c, s, now, units)
  if units == INF then return INF end
  return ceil_ms(warm_time_for_area(c.w, s[1] - now, max(0, s[2] - now), units / c.per_ms))
end
local function b_room(c, a) if c.alg == 1 then return a end return c.cap - a end
local function b_step(c, s, now, cost)
  s = b_advance(c, s, now)
  local a = s[3]
  local fits
  if c.alg == 1 then fits = cost <= a + EPS else fits = a + cost <= c.cap + EPS end
  if fits then
    local after
    if c.alg == 1 then after = max(0, a - cost) else after = min(c.cap, a + cost) end
    local reset = b_wait(c, s, now, b_shortfall(c, after, c.cap))
    return { s[1], s[2], after }, allowed(c.cap, whole(b_room(c, after)), reset)
  end
  local retry = b_wait(c, s, now, b_shortfall(c, a, cost))
  local reset = b_wait(c, s, now, b_shortfall(c, a, c.cap))
  return s, denied(c.cap, whole(b_room(c, a)), retry, reset)
end
local function b_rewarm(c, s, now)
  s = b_advance(c, s, now)
  local fresh = b_initial(c, warm_fraction(c.w, now, now))
  if c.alg == 1 then return { now, s[2], min(s[3], fresh) } end
  return { now, s[2], max(s[3], fresh) }
end

-- sliding window (sliding_window.ts); s = { ws, log = { t1, c1, t2, c2, ... } }
local function sw_prune(c, log, now)
  local i = 1
  while i <= #log and log[i] <= now - c.win do i = i + 2 end
  if i == 1 then return log end
  local out = {}
  for j = i, #log do out[#out + 1] = log[j] end
  return out
end
local function sw_total(log)
  local sum = 0
  for i = 2, #log, 2 do sum = sum + log[i] end
  return sum
end
local function sw_reset_in(c, log, now)
  if #log == 0 then return 0 end
  return ceil_ms(log[#log - 1] + c.win - now)
end
local function sw_wait(c, ws, log, now, used, cost)
  if cost > c.cap + EPS then return INF end
  local function capacity_at(from, need)
    return max(from, warm_time_for_fraction(c.w, ws - now, need / c.cap))
  end
  local from = 0
  for i = 1, #log, 2 do
    local expiry = log[i] + c.win - now
    local at = capacity_at(from, used + cost)
    if at < expiry then return ceil_ms(at) end
    from = expiry
    used = used - log[i + 1]
  end
  return ceil_ms(capacity_at(from, cost))
end
local function sw_step(c, s, now, cost)
  local log = sw_prune(c, s[2], now)
  local used = sw_total(log)
  local cap = c.cap * warm_fraction(c.w, s[1], now)
  if used + cost > cap + EPS then
    return { s[1], log }, denied(c.cap, whole(cap - used), sw_wait(c, s[1], log, now, used, cost), sw_reset_in(c, log, now))
  end
  local nxt = log
  if cost > 0 then
    nxt = {}
    for j = 1, #log do nxt[j] = log[j] end
    local n = #nxt
    if n > 0 and nxt[n - 1] >= now then
      nxt[n] = nxt[n] + cost
    else
      nxt[n + 1] = now
      nxt[n + 2] = cost
    end
  end
  return { s[1], nxt }, allowed(c.cap, whole(cap - used - cost), sw_reset_in(c, nxt, now))
end

-- fixed window (fixed_window.ts); s = { ws, start, count }
local function fw_roll(c, s, now)
  if now >= s[2] + c.win then return { s[1], floor(now / c.win) * c.win, 0 } end
  return s
end
local function fw_step(c, s, now, cost)
  s = fw_roll(c, s, now)
  local cap = c.cap * warm_fraction(c.w, s[1], now)
  local e = s[2] + c.win - now
  local reset = ceil_ms(e)
  if s[3] + cost <= cap + EPS then
    local count = s[3] + cost
    return { s[1], s[2], count }, allowed(c.cap, whole(cap - count), reset)
  end
  local function capacity_at(from, need)
    return max(from, warm_time_for_fraction(c.w, s[1] - now, need / c.cap))
  end
  local in_window = capacity_at(0, s[3] + cost)
  local at
  if in_window < e then at = in_window else at = capacity_at(e, cost) end
  return s, denied(c.cap, whole(cap - s[3]), ceil_ms(at), reset)
end

local function init(c, now, ws)
  if c.alg <= 2 then return { ws, now, b_initial(c, warm_fraction(c.w, ws, now)) } end
  if c.alg == 3 then return { ws, {} } end
  return { ws, floor(now / c.win) * c.win, 0 }
end
local function step(c, s, now, cost)
  if c.alg <= 2 then return b_step(c, s, now, cost) end
  if c.alg == 3 then return sw_step(c, s, now, cost) end
  return fw_step(c, s, now, cost)
end
local function rewarm(c, s, now)
  if c.alg <= 2 then return b_rewarm(c, s, now) end
  if c.alg == 3 then return { now, sw_prune(c, s[2], now) } end
  local r = fw_roll(c, s, now)
  return { now, r[2], r[3] }
end

-- corrections (token limits): d > 0 charges, d < 0 refunds what the admission at 'at' took
local function adjust(c, s, now, at, d)
  if c.alg <= 2 then
    s = b_advance(c, s, now)
    if c.alg == 1 then return { s[1], s[2], min(c.cap, s[3] - d) } end
    return { s[1], s[2], max(0, s[3] + d) }
  end
  if c.alg == 3 then
    local log = sw_prune(c, s[2], now)
    local out = {}
    for j = 1, #log do out[j] = log[j] end
    if d > 0 then
      local n = #out
      if n > 0 and out[n - 1] >= now then out[n] = out[n] + d else out[n + 1] = now; out[n + 2] = d end
    elseif at then
      for j = 1, #out, 2 do
        if out[j] == at then
          out[j + 1] = max(0, out[j + 1] + d)
          if out[j + 1] <= EPS then table.remove(out, j + 1); table.remove(out, j) end
          break
        end
      end
    end
    return { s[1], out }
  end
  s = fw_roll(c, s, now)
  if d > 0 then return { s[1], s[2], s[3] + d } end
  if at and floor(at / c.win) * c.win == s[2] then return { s[1], s[2], max(0, s[3] + d) } end
  return s
end

local function decode(c, raw)
  if not raw then return nil end
  local ok, a, b, d, e = pcall(cmsgpack.unpack, raw)
  if not ok or a ~= c.alg then return nil end
  if c.alg == 3 then
    if type(d) ~= "table" then return nil end
    return { b, d }
  end
  return { b, d, e }
end
local function encode(c, s)
  if c.alg == 3 then return cmsgpack.pack(c.alg, s[1], s[2]) end
  return cmsgpack.pack(c.alg, s[1], s[2], s[3])
end
local function fmt(x)
  if x == INF then return "inf" end
  return string.format("%.17g", x)
end

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
