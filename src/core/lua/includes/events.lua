--[[
  Session events (README "Session events"): every change a script makes is
  announced by one message on the session's channel, published by the same
  script after its last check, so an event is never sent for a change that
  did not happen. A message says what changed, never the content:

    {"sessionId":"<id>","type":"<type>","seq":<n>?,"callId":"<id>"?,"at":<ms>}

  The channel is the meta key's (KEYS[1], '<prefix>{<id>}:meta') sibling
  '<prefix>{<id>}:events': the same hash slot, so on Cluster the sharded
  publish stays on the node that runs the script.

  publish_event(mode, type, seq, call_id, at): mode is the script's events
    argument: '' publishes nothing (events off), 'SPUBLISH' a sharded
    publish (Cluster), anything else PUBLISH. seq and call_id may be nil;
    at is the change's time (ms, the script's now_ms()), read here if nil.
    Never fails the script: no listener is not an error, and a refused
    publish (an ACL without the channel) must not turn a change that was
    written into an error the caller would retry.
]]
--- @include "now-ms"

local function publish_event(mode, kind, seq, call_id, at)
  if mode == '' then return end
  local id = string.match(KEYS[1], '{([^{}]*)}:meta$')
  if not id then return end
  local json = '{"sessionId":"' .. id .. '","type":"' .. kind .. '"'
  if seq then json = json .. ',"seq":' .. string.format('%d', seq) end
  if call_id then json = json .. ',"callId":' .. cjson.encode(call_id) end
  json = json .. ',"at":' .. string.format('%d', at or now_ms()) .. '}'
  local channel = string.sub(KEYS[1], 1, -5) .. 'events'
  if mode == 'SPUBLISH' then
    redis.pcall('SPUBLISH', channel, json)
  else
    redis.pcall('PUBLISH', channel, json)
  end
end
