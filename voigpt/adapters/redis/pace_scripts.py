"""The Lua scripts of the fleet's pace in Redis (``pace.py``): each runs atomically, on
Redis's ``TIME``, the one clock of the fleet. Times are milliseconds."""

NOW = """local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS: slots, next, paused. ARGV: cap (0: none), lease ms, interval ms (0: none),
# members... (one per start asked for). {started, wait}: how many of the members started,
# in order (their slots taken; one at most with an interval), and for the ones that did
# not, the ms to wait before asking again (-1: every slot taken).
START = NOW + """
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then return {0, paused - now} end
local n = #ARGV - 3
local cap = tonumber(ARGV[1])
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  n = math.min(n, cap - redis.call('ZCARD', KEYS[1]))
  if n <= 0 then return {0, -1} end
end
local wait = -1
local interval = tonumber(ARGV[3])
if interval > 0 then
  local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
  if nxt > now then return {0, nxt - now} end
  redis.call('SET', KEYS[2], now + interval, 'PX', interval + 1000)
  n, wait = 1, interval
end
if cap > 0 then
  for i = 1, n do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3 + i]) end
end
return {n, wait}
"""
# KEYS: paused. The ms of the pause still to run (0: none), on Redis's clock.
LEFT = NOW + """
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused > now then return paused - now end
return 0
"""
# KEYS: slots. ARGV: lease ms, members... (re-added: a Redis that restarted counts them)
RENEW = NOW + """
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
return 0
"""
# KEYS: paused, backoff. ARGV: the first backoff. The backoff now in force: growth starts
# over once the last pause has been over for a second, as in MemoryPace.
BACKOFF = NOW + """
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if now >= paused + 1000 then return ARGV[1] end
return redis.call('GET', KEYS[2]) or ARGV[1]
"""
# KEYS: paused, backoff. ARGV: pause ms, the next backoff. A pause only ever grows.
PAUSE = NOW + """
local paused = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], paused, 'PX', paused - now + 60000)
redis.call('SET', KEYS[2], ARGV[2], 'PX', paused - now + 60000)
return paused - now
"""
