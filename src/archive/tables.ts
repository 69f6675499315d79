/**
 * The archive's tables, qualified with its schema. The schema name is
 * checked as a plain identifier when options are resolved; it is quoted here
 * all the same, so that nothing else ever reaches SQL text unescaped.
 */
export interface Tables {
  /** The schema, quoted. */
  readonly schema: string;
  readonly migrations: string;
  readonly conversations: string;
  readonly turns: string;
  readonly toolCalls: string;
  readonly notes: string;
  readonly erasures: string;
  /**
   * Prefix of the advisory-lock key of a conversation (hashed together with
   * its id), so that archives in different schemas do not wait on each other.
   */
  readonly lockPrefix: string;
}

export function tablesIn(schema: string): Tables {
  const quoted = `"${schema.replaceAll('"', '""')}"`;
  return {
    schema: quoted,
    migrations: `${quoted}.schema_migrations`,
    conversations: `${quoted}.conversations`,
    turns: `${quoted}.turns`,
    toolCalls: `${quoted}.tool_calls`,
    notes: `${quoted}.notes_versions`,
    erasures: `${quoted}.erasures`,
    lockPrefix: `agent-session:${schema}:`,
  };
}

/**
 * SQL for "take the transaction-scoped advisory lock of conversation <id>",
 * with `prefixParam` bound to `lockPrefix`. Archiving, erasure and retention
 * of one conversation take this lock first, so an erasure can never
 * interleave with a batch of the same conversation and let it back in.
 */
export function conversationLockKey(idExpression: string, prefixParam: string): string {
  return `hashtextextended(${prefixParam} || ${idExpression}, 0)`;
}
