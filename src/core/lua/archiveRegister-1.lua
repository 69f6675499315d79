--[[
  Registers a session with the archiver: its backlog may hold entries. The
  score is the Redis time in microseconds, which only grows, so the archiver
  can tell a registration that came after it looked (see archiveForget).

  KEYS[1] the archive index (sorted set of session ids)

  ARGV[1] the session id

  Returns 1.
]]
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000000 + tonumber(t[2]), ARGV[1])
return 1
