/**
 * Every call of a script of a library loaded with `deadlines: true` carries
 * a deadline that the script checks against the Redis clock before it does
 * anything else. Why: a command written to a Redis that hangs (SIGSTOP, a
 * stalled VM) sits in the server's socket buffer. The client gives up on it
 * (the fail-fast bound, or the probe dropping the connection) and answers
 * 503, but when Redis resumes it reads the buffer and runs the command
 * anyway, closed connection or not: a turn whose request failed would land.
 * With the deadline, a script that runs after the caller gave up refuses
 * with `DEADLINE` and writes nothing.
 *
 * The deadline is an extra first argument, taken off ARGV by the prelude
 * (`table.remove(ARGV, 1)`), so each script's own ARGV[1], ARGV[2], ...
 * stay as its header says. It is in ms of the Redis clock (clock.ts turns
 * ours into it); '0' means none (the Redis clock was never measured on that
 * client: an app-made connection, or TIME not allowed by the ACL). When
 * running a printed script by hand, pass 0 first (`npm run lua`).
 */
export const DEADLINE_CODE = 'DEADLINE';

export function luaDeadlinePrelude(): string {
  return `-- The call's deadline (src/redis/lua-deadline.ts): the first argument, in ms of
-- the Redis clock, 0 for none; taken off ARGV, so ARGV[1] below is the script's own.
local call_deadline_ms = tonumber(table.remove(ARGV, 1))
if call_deadline_ms == nil then
  return redis.error_reply('ERR the first argument must be the call deadline (ms of the Redis clock, 0 for none)')
end
if call_deadline_ms > 0 then
  local time = redis.call('TIME')
  if tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) > call_deadline_ms then
    return fail(E.${DEADLINE_CODE})
  end
end`;
}
