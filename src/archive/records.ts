/** The records of the cold tier are the core's contract (core/cold-tier.ts); the archive speaks them. */
export type {
  ArchiveBatch,
  ArchivedMeta,
  ArchiveRecord,
  ConversationSummary,
  NotesRecord,
  RestoreData,
  ToolRecord,
  TurnRecord,
} from '../core/cold-tier.js';
