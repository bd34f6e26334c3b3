/**
 * The four limit algorithms of `src/limiter/` (token bucket, leaky bucket, sliding window, fixed
 * window) and their warm-up ramp in Lua, ported line for line from the TypeScript step functions
 * (`bucket.ts`, `sliding_window.ts`, `fixed_window.ts`, `warm_up.ts`), so that a cluster decides
 * exactly as one process would (`redis_limits_test.ts` replays seeded traffic through both and
 * requires equal decisions); plus the corrections of token limits (`adjust`) and the state
 * encoding. The functions of the script that `redis_limits_lua.ts` completes.
 *
 * @module
 */

/** Local functions only: `init`, `step`, `rewarm`, `adjust`, `decode`, `encode`, `fmt`. */
export const ALGORITHMS_LUA = `
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

`;
