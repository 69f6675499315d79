-- agent-session cold tier, migration 001: the archive's tables.
--
-- migrate() runs this file in one transaction, under an advisory lock, with
-- search_path set to the archive's schema (default agent_session), so the
-- names below are unqualified. To run it by hand:
--   SET search_path TO agent_session;  \i 001_init.sql
--
-- Design:
-- * One row per conversation (= agent session id) in `conversations`; the
--   turns, tool calls and notes versions hang off it with ON DELETE CASCADE,
--   so erasing a conversation is one DELETE of its row.
-- * Everything is keyed by what Redis assigned (conversation id + seq, call
--   id, coversThroughSeq + writtenAt), never by a serial of ours: the archiver
--   delivers at least once, and re-inserting a row it already wrote must hit
--   the primary key and change nothing.
-- * Times are bigint milliseconds since the epoch from Redis's clock, exactly
--   as Redis holds them, so a restore puts back the same numbers (timestamptz
--   would round to microseconds and bring a second clock into play).
-- * `erasures` holds a tombstone per erased conversation: the archiver may
--   still hold a drained batch of it, and that batch must not bring it back.
-- * The indexes serve the reads the library makes and nothing else: a user's
--   conversations newest first (keyset pages), a conversation's turns by seq
--   (the primary key) and by time, and retention by last activity.

CREATE TABLE conversations (
  id              text   PRIMARY KEY,
  -- NULL while the conversation is not bound to a user (anonymous).
  user_id         text,
  agent_id        text,
  model           text,
  current_task    text,
  fields          jsonb  NOT NULL DEFAULT '{}'::jsonb,
  -- Set by the app (setTitle); archiving never writes it.
  title           text,
  created_at      bigint NOT NULL,
  last_active     bigint NOT NULL,
  turn_count      bigint NOT NULL,
  idle_timeout_ms bigint NOT NULL
);

-- "A user's conversations, newest first", paged by (last_active, id) < (x, y):
-- both columns descending so the page condition is one row comparison that
-- the index answers as a range. Anonymous conversations are never listed, so
-- they are left out of the index.
CREATE INDEX conversations_by_user_recent
  ON conversations (user_id, last_active DESC, id DESC)
  WHERE user_id IS NOT NULL;

-- Retention: conversations idle since before a cut-off.
CREATE INDEX conversations_by_last_active ON conversations (last_active);

CREATE TABLE turns (
  conversation_id text   NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq             bigint NOT NULL,
  ts              bigint NOT NULL,
  role            text   NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
  content         text   NOT NULL,
  tool_call_id    text,
  PRIMARY KEY (conversation_id, seq)
);

-- History by time range within one conversation.
CREATE INDEX turns_by_time ON turns (conversation_id, ts);

CREATE TABLE tool_calls (
  conversation_id text   NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  call_id         text   NOT NULL,
  name            text   NOT NULL,
  status          text   NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
  args            jsonb,
  result          jsonb,
  error           text,
  started_at      bigint NOT NULL,
  finished_at     bigint,
  PRIMARY KEY (conversation_id, call_id)
);

-- Every version the observer wrote; the latest is the one with the highest
-- (covers_through_seq, written_at), which the primary key finds directly.
CREATE TABLE notes_versions (
  conversation_id    text   NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  covers_through_seq bigint NOT NULL,
  written_at         bigint NOT NULL,
  notes              jsonb  NOT NULL,
  PRIMARY KEY (conversation_id, covers_through_seq, written_at)
);

-- Tombstones: no foreign key, they outlive the conversation they name.
-- erased_at is the database's clock (ms), for operators.
CREATE TABLE erasures (
  conversation_id text   PRIMARY KEY,
  erased_at       bigint NOT NULL
);
