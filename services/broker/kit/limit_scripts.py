"""The Lua scripts behind the limits (kit/ratelimit.py). A script runs atomically in Redis, so
what one reads and what it counts happen at once, whichever replica asks. Above each, its KEYS,
its ARGV and its answer: the contract `RateLimiter` calls it by."""

from __future__ import annotations

from broker.kit.scripts import LuaScript

# KEYS: window, then keys that refuse the call if any exists. ARGV: limit, window ms. → -1 if
# one of those exists (nothing counted), else 0 if admitted, else ms until the window closes.
HIT = LuaScript(
    """
if #KEYS > 1 and redis.call('EXISTS', unpack(KEYS, 2)) > 0 then return -1 end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n <= tonumber(ARGV[1]) then return 0 end
return math.max(redis.call('PTTL', KEYS[1]), 1)
"""
)

# KEYS: failures, lock, strikes. ARGV: limit, window ms, lockout ms, cap ms, strikes ttl ms.
# → 0, or the ms of the lockout this failure started.
FAILED = LuaScript(
    """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n < tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
local strikes = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
local ms = tonumber(ARGV[3]) * 2 ^ math.min(strikes - 1, 40)
ms = math.floor(math.min(ms, tonumber(ARGV[4])))
redis.call('SET', KEYS[2], '1', 'PX', ms)
return ms
"""
)

# KEYS: ARGV[1] lockouts, then a window if ARGV[2] is 1, then ARGV[3] keys to count, then keys
# to read, then a hash if ARGV[6] > 0. ARGV: those three, the window's limit and ms, how many
# fields to count (ARGV[6]), then (if any) the value expected of each key read ('-': none), the
# hash's id, the time in ms and the fields. → each lockout's PTTL, the window's answer as HIT's,
# how many of the keys to count exist, each key read's value (false: none), then if fields were
# given 1 if they were counted (no lockout, within the rate, none of the keys existing, each key
# read as expected), else 0. Each field `f` counted adds 1 to `n:f` and keeps the latest time in
# `t:f`; the hash's `id` is set by the first count that makes it.
ADMIT = LuaScript(
    """
local locks, windows, counted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local counting = tonumber(ARGV[6])
local out, admitted = {}, true
for i = 1, locks do
  out[i] = redis.call('PTTL', KEYS[i])
  if out[i] > 0 then admitted = false end
end
local k = locks + 1
if windows == 1 then
  local n = redis.call('INCR', KEYS[k])
  if n == 1 then redis.call('PEXPIRE', KEYS[k], ARGV[5]) end
  if n <= tonumber(ARGV[4]) then out[#out + 1] = 0
  else out[#out + 1] = math.max(redis.call('PTTL', KEYS[k]), 1); admitted = false end
  k = k + 1
end
if counted > 0 then
  local found = redis.call('EXISTS', unpack(KEYS, k, k + counted - 1))
  out[#out + 1] = found
  if found > 0 then admitted = false end
  k = k + counted
end
local last, a = #KEYS, 7
if counting > 0 then last = last - 1 end
for i = k, last do
  local value = redis.call('GET', KEYS[i])
  out[#out + 1] = value
  if counting > 0 then
    if (value or '-') ~= ARGV[a] then admitted = false end
    a = a + 1
  end
end
if counting > 0 then
  if not admitted then out[#out + 1] = 0; return out end
  local hash, now = KEYS[#KEYS], tonumber(ARGV[a + 1])
  redis.call('HSETNX', hash, 'id', ARGV[a])
  for j = a + 2, a + 1 + counting do
    redis.call('HINCRBY', hash, 'n:' .. ARGV[j], 1)
    if now > tonumber(redis.call('HGET', hash, 't:' .. ARGV[j]) or '0') then
      redis.call('HSET', hash, 't:' .. ARGV[j], now)
    end
  end
  out[#out + 1] = 1
end
return out
"""
)
