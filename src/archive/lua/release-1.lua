--[[
  Gives a session's archive lease back (compare-and-delete), so another
  archiver need not wait for it to expire.

  KEYS[1] archive lease  deleted if it holds ARGV[1]

  ARGV[1] this archiver's token

  Returns 1 if released, 0 if it was no longer ours.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
