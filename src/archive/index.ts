/**
 * agent-session/archive: the cold tier's archive in PostgreSQL. Needs the
 * optional peer dependency `pg` (node-postgres 8); apps that do not import
 * this entry point do not need it.
 */
export { createPgArchive } from './pg-archive.js';
export type { PgArchive } from './pg-archive.js';
export type { PgArchiveCommonOptions, PgArchiveConnectionOptions, PgArchiveOptions, PgArchivePoolOptions } from './options.js';
export type { ConversationCursor, ConversationPage, HistoryOrder, HistoryQuery } from './inputs.js';
export type {
  ArchiveBatch,
  ArchivedMeta,
  ArchiveRecord,
  ConversationSummary,
  NotesRecord,
  RestoreData,
  ToolRecord,
  TurnRecord,
} from './records.js';
export { ArchiveQueryError, ArchiveUnavailableError } from '../errors.js';
