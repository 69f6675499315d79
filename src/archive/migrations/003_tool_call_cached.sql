-- agent-session cold tier, migration 003: tool calls answered from the tool cache.
--
-- agent-session/tool-cache records a call it answered from its cache as a
-- tool call marked cached (completeToolCall(id, result, { cached: true })),
-- so the transcript says which results were not freshly computed. The mark
-- is archived with the call and put back by a restore. Rows archived before
-- this migration were never cached.
ALTER TABLE tool_calls ADD COLUMN cached boolean NOT NULL DEFAULT false;
