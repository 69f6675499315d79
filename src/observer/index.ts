/**
 * agent-session/observer: background analysis that writes notes back into
 * agent sessions. The request side lives on the session itself
 * (`session.requestObservation()`, `session.notes()`); this entry point holds
 * the worker that serves the requests and the `get_observer_notes` tool.
 */
export { createObserverWorker } from './worker.js';
export type { ObserverWorker } from './worker.js';
export { exponentialBackoff } from './config.js';
export { observerNotesTool, observerNotesToolStrict, handleObserverNotesTool, type ToolDefinition, type JsonSchema, type NotesReader } from './tool.js';
export type { Analyze, AnalyzeInput, ObserverEvent, ObserverWorkerOptions, PreviousNotes, RunOutcome } from './types.js';
export type { ObservationRequestOptions, ObservationRequestResult } from '../core/api.js';
export type { NotesQuery, NotesResult, ObserverError } from '../core/types.js';
export type { ObserverBacklog } from '../core/observer-backlog.js';
export type { ObserverQueueOptions } from '../core/config.js';
