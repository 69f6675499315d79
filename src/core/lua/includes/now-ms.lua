--[[
  now_ms(): the Redis server's time in ms. Every timestamp agent-session
  stores comes from this one clock, never from the app servers' clocks.
]]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
