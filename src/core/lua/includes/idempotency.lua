--[[
  Idempotency records: a write that carries an idempotency key (a client's
  message id) and is repeated returns what the first one returned, and
  writes nothing. The records of one session live in one hash (the key is
  given to each function, the session's meta hash is KEYS[1]):

    'n'          how many records were ever stored (the ring's cursor)
    'r:<slot>'   the key stored in ring slot <slot> (0 .. maxKeys - 1)
    'k:<key>'    '<slot>|<storedAt ms>|<session createdAt>|<fingerprint>|<result>'

  Bounded in count (a ring of maxKeys slots: the record in a reused slot is
  dropped) and in time (a record older than ttlMs is ignored, and the hash
  expires ttlMs after its last write). A record of an earlier life of the
  session (same id, other createdAt: it expired and started afresh) is
  ignored too, so a retry never answers with a seq that belongs to a
  conversation that is gone.

  spec: '<ttlMs>:<maxKeys>'; token: the idempotency key ('' for none);
  fingerprint: a digest of the payload, 16 hex digits of its SHA-1 (a
  repeated key with another payload is refused with IDEMPOTENCY_CONFLICT;
  64 bits make a payload that passes for another one by chance negligible).

  idem_check(key, token, spec, fingerprint, now): nil, result (a record of the
  same write: return it, write nothing) | nil, nil (go on and write) | the
  error reply (CORRUPT <key> for a hash agent-session did not write,
  IDEMPOTENCY_CONFLICT). Reads only: call it before the first write.
  idem_store(key, token, spec, fingerprint, now, result): records the result;
  cannot fail once idem_check passed.
]]

local function idem_spec(spec)
  local ttl, max_keys = string.match(spec, '^(%d+):(%d+)$')
  return tonumber(ttl), tonumber(max_keys)
end

local function idem_parse(entry)
  return string.match(entry, '^(%d+)|(%d+)|([^|]*)|(%x+)|(.*)$')
end

local function idem_check(key, token, spec, fingerprint, now)
  if token == '' then return nil, nil end
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'none' then return nil, nil end
  if kind ~= 'hash' then return fail(E.CORRUPT, key), nil end
  local cursor = redis.call('HGET', key, 'n')
  -- HINCRBY takes at most a 64-bit integer: 18 digits are always within it.
  if cursor and not (string.match(cursor, '^%d+$') and #cursor <= 18) then return fail(E.CORRUPT, key), nil end
  local entry = redis.call('HGET', key, 'k:' .. token)
  if not entry then return nil, nil end
  local slot, at, created, fp, result = idem_parse(entry)
  if not slot then return fail(E.CORRUPT, key), nil end
  local ttl = idem_spec(spec)
  if tonumber(at) + ttl <= now then return nil, nil end
  if created ~= (redis.call('HGET', KEYS[1], 'createdAt') or '') then return nil, nil end
  if fp ~= fingerprint then return fail(E.IDEMPOTENCY_CONFLICT), nil end
  return nil, result
end

local function idem_store(key, token, spec, fingerprint, now, result)
  if token == '' then return end
  local ttl, max_keys = idem_spec(spec)
  -- An expired record of the same key: free its slot, so reusing that slot
  -- later cannot drop the record written now.
  local previous = redis.call('HGET', key, 'k:' .. token)
  if previous then
    local previous_slot = idem_parse(previous)
    if previous_slot then redis.call('HDEL', key, 'r:' .. previous_slot) end
  end
  local slot = tostring((redis.call('HINCRBY', key, 'n', 1) - 1) % max_keys)
  local evicted = redis.call('HGET', key, 'r:' .. slot)
  if evicted and evicted ~= token then redis.call('HDEL', key, 'k:' .. evicted) end
  local created = redis.call('HGET', KEYS[1], 'createdAt') or ''
  redis.call('HSET', key, 'r:' .. slot, token,
    'k:' .. token, slot .. '|' .. string.format('%d', now) .. '|' .. created .. '|' .. fingerprint .. '|' .. result)
  redis.call('PEXPIRE', key, ttl)
end
