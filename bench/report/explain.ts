/**
 * Why a request sends each Redis command: the text results.md puts beside
 * every command of the profiles. Matched on the command and the key (ids
 * already replaced by <id>); the first rule that matches explains it.
 */
const RULES: Array<[RegExp, string]> = [
  [/^GET agent:sess:/, 'the cookie session is loaded (express-session or koa-session, through agent-session\'s store): one GET of its JSON'],
  [/^GET sess:/, 'express-session loads the cookie session (one GET of its JSON)'],
  [/^GET koa:sess:/, 'koa-session loads the cookie session from the external store (one GET of its JSON)'],
  [/^EXPIRE sess:/, 'connect-redis `touch`: the session did not change, so rolling expiry only resets its TTL'],
  [/^SET (agent:)?sess:/, 'the cookie session changed (or rolling saves it): the whole JSON is written again'],
  [/^SET koa:sess:/, 'koa-session saves the whole session JSON: it changed, or `rolling` re-saves it on every request'],
  [/^PEXPIRE (agent:)?sess:/, 'agent-session\'s cookie-session store: the session did not change, so only its expiry is extended (the TTL follows the cookie\'s)'],
  [/^EVALSHA agent-session:load-along/, 'agent-session LOAD-ALONG script, the cookie-session store\'s load: GET of the cookie session\'s JSON and, in the same call, PEXPIRE of it and a touch of the agent session its link names (lastActive, PEXPIRE of every agent key), as the user the link records (the end of the request undoes it for another user); the cookie session id carries the agent id as hash tag, so all of it is one slot. All a touch sends'],
  [/^EVALSHA agent-session:untouch/, 'agent-session UNTOUCH script: the request\'s user was not the one the link recorded, so the load\'s touch is undone (lastActive and TTLs as before)'],
  [/^EVALSHA agent-session:read/, 'agent-session READ script: checks the session and its user, returns metadata and the last N turns (and tool calls and notes for a snapshot), resets the TTL of every agent key; one atomic call'],
  [/^EVALSHA agent-session:append-turn/, 'agent-session APPEND script: checks the user, assigns seq and ts, RPUSH + LTRIM to the window, updates the metadata, resets every agent key\'s TTL; one atomic call'],
  [/^EVALSHA agent-session:touch-along/, 'agent-session TOUCH-ALONG script: the cookie session did not change, so one call extends its expiry (PEXPIRE) and resets the TTL of every agent key (and lastActive)'],
  [/^EVALSHA agent-session:touch/, 'agent-session TOUCH script: resets the TTL of every agent key (and lastActive), sent in the same tick as the cookie-session command, so in the same network write'],
  [/^EVALSHA agent-session:archive-register/, 'cold tier: announces the session to the archiver (ZADD on the archive index), at most once per session, process and registerEveryMs, sent with the write it announces'],
  [/^EVALSHA agent-session:create/, 'agent-session CREATE script: the first write creates the agent session'],
  [/^EVALSHA /, 'a Lua script of agent-session'],
  [/^EVAL /, 'a script the server had not cached yet (NOSCRIPT, then EVAL with the source); happens once per script and server'],
  [/^DEL /, 'a session is destroyed'],
];

export function explainCommand(command: string): string {
  return RULES.find(([pattern]) => pattern.test(command))?.[1] ?? 'not explained by the bench (see the key)';
}
