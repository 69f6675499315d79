/**
 * agent-session/archive: the cold tier's archive in PostgreSQL. Needs the
 * optional peer dependency `pg` (node-postgres 8); apps that do not import
 * this entry point do not need it.
 */
export { createPgArchive } from './pg-archive.js';
export type { PgArchive } from './pg-archive.js';
export type { PgArchiveCommonOptions, PgArchiveConnectionOptions, PgArchiveOptions, PgArchivePoolOptions } from './options.js';
export type { ConversationCursor, ConversationList, ConversationPage, HistoryOrder, HistoryQuery } from '../core/cold-tier.js';
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
export { ArchiveQueryError, ArchiveUnavailableError } from '../errors.js';
export { createArchiver } from './archiver.js';
export type { ArchiveBacklog, Archiver, ArchiverEvent, ArchiverOptions, ArchiverStats } from './archiver.js';
