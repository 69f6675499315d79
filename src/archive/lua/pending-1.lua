--[[
  The next sessions to archive, in order of registration, from a cursor
  score on: the archiver walks the whole index a page at a time and starts
  over when a page comes back short.

  KEYS[1] the archive index

  ARGV[1] cursor: the lowest score to return ('-inf' to start), exclusive with '('
  ARGV[2] page size

  Returns a flat list: id, score, id, score ...
]]
return redis.call('ZRANGE', KEYS[1], ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]), 'WITHSCORES')
