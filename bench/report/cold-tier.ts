import { THROUGHPUT_TARGET, type ColdTierResults, type PathSummary, type RestoreSummary, type ThroughputSummary } from '../archive-results.js';
import { DEFAULT_HISTORY } from '../contract.js';
import { profiledCommands } from '../summary.js';
import { num, renderMarkdown, renderText, times, type Table } from './tables.js';

/**
 * The cold-tier stage in the report: its targets, the archive throughput
 * against the append rate, the request path with and without the cold
 * tier, and the restore beside the hand-written pattern. Built as tables
 * once, rendered as Markdown (results.md) and as text (stdout).
 */

const ms = (value: number | undefined) => (value === undefined ? 'not zero' : num(value, 0));
const percent = (value: number) => (Number.isFinite(value) ? `±${num(100 * value)} %` : '–');

export function coldTierTargetsTable(archive: ColdTierResults): Table {
  return {
    head: ['target (issue 9)', 'measured', 'met'],
    rows: archive.targets.map((target) => [target.goal, target.measured, target.met === null ? 'not measured' : target.met ? 'yes' : 'NO']),
  };
}

export function drainTable(throughput: ThroughputSummary): Table {
  const rows = throughput.stopped.map((round, index) => [
    `round ${index + 1}`,
    String(round.appends),
    num(round.appendRps),
    num(round.appendP99),
    String(round.backlog),
    ms(round.drainMs),
    num(round.archivedPerSecond),
    times(round.archivedPerSecond / round.appendRps),
    num(round.archivedTurns / round.batches),
    num(round.archiverCpuUsPerTurn ?? Number.NaN),
  ]);
  if (throughput.stopped.length > 1) {
    rows.push([
      'median',
      '',
      num(throughput.appendRps),
      '',
      '',
      num(throughput.drainMs),
      num(throughput.archivedPerSecond),
      times(throughput.archivedPerAppended),
      num(throughput.turnsPerBatch),
      num(throughput.archiverCpuUsPerTurn),
    ]);
  }
  return {
    head: ['archiver stopped during the load', 'appends', 'append req/s', 'append p99 ms', 'backlog when started', 'drained in ms', 'archived turns/s', 'archived ÷ appended', 'turns per PG transaction', 'archiver CPU µs/turn'],
    rows,
    numeric: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  };
}

export function concurrentTable(throughput: ThroughputSummary): Table {
  const rows = throughput.concurrentRounds.map((round, index) => [
    `round ${index + 1}`,
    String(round.appends),
    num(round.appendRps),
    num(round.appendP99),
    String(round.backlogAtEnd),
    ms(round.toZeroMs),
  ]);
  if (throughput.concurrentRounds.length > 1) {
    rows.push(['median', '', num(throughput.concurrent.appendRps), '', num(throughput.concurrent.backlogAtEnd), num(throughput.concurrent.toZeroMs)]);
  }
  return {
    head: ['archiver running during the load', 'appends', 'append req/s', 'append p99 ms', 'backlog at the end of the load', 'zero after ms'],
    rows,
    numeric: [1, 2, 3, 4, 5],
  };
}

export function pathTable(path: PathSummary): Table {
  const list = (values: number[]) => values.map((value) => num(value, 2)).join(', ');
  return {
    head: [
      'scenario',
      '3 req/s',
      '3a req/s',
      "3′ req/s",
      '3a ÷ 3',
      '3a ÷ 3 per round',
      "3′ ÷ 3 per round",
      'noise',
      'within noise',
      'p99 ms 3 / 3a',
      'CPU µs/req 3 / 3a',
      'CPU 3a ÷ 3 (noise)',
      'redis-server µs/req 3 / 3a',
      'cmds/req 3 / 3a',
      'in scripts 3 / 3a',
    ],
    rows: path.comparisons.map((entry) => [
      entry.scenario,
      num(entry.without.median.rps),
      num(entry.with.median.rps),
      num(entry.control.median.rps),
      times(entry.rpsRatio),
      list(entry.roundRatios),
      list(entry.controlRatios),
      percent(entry.noise),
      entry.withinNoise ? 'yes' : 'NO',
      `${num(entry.without.median.p99, 1)} / ${num(entry.with.median.p99, 1)}`,
      `${num(entry.without.median.cpuUsPerRequest)} / ${num(entry.with.median.cpuUsPerRequest)}`,
      `${times(entry.cpuRatio)} (${percent(entry.cpuNoise)})`,
      `${num(entry.without.median.redisCpuUsPerRequest)} / ${num(entry.with.median.redisCpuUsPerRequest)}`,
      `${num(profiledCommands(entry.without), 1)} / ${num(profiledCommands(entry.with), 1)}`,
      `${num(entry.without.median.inScriptPerRequest, 1)} / ${num(entry.with.median.inScriptPerRequest, 1)}`,
    ]),
    numeric: [1, 2, 3, 4],
  };
}

export function restoreTable(restore: RestoreSummary): Table {
  return {
    head: ['restore', 'what it reads and writes', 'p50 ms', 'p99 ms', 'p50 vs hand-written', 'p99 vs hand-written'],
    rows: [
      [
        'agent-session `store.resume()`',
        `TOUCH (gone from Redis), the owner, then one REPEATABLE READ snapshot (metadata, newest ${restore.window} turns, tool calls, latest notes), one RESTORE script: metadata, turns, tool calls and notes, bound to the user, seq continuing`,
        num(restore.libraryMs.p50, 1),
        num(restore.libraryMs.p99, 1),
        times(restore.p50Ratio),
        times(restore.p99Ratio),
      ],
      [
        'hand-written, one JSON row',
        `one SELECT of the whole ${restore.turns}-turn document, then MULTI DEL + RPUSH of the newest ${restore.window} + PEXPIRE: turns only`,
        num(restore.handwrittenMs.p50, 1),
        num(restore.handwrittenMs.p99, 1),
        '1.00x',
        '1.00x',
      ],
    ],
    numeric: [2, 3, 4, 5],
  };
}

/** The "Cold tier" section of results.md. */
export function coldTierMarkdown(archive: ColdTierResults): string[] {
  const lines: string[] = ['## Cold tier (issue 9)', ''];
  if (archive.skipped !== undefined) return [...lines, `Not run: ${archive.skipped}.`];
  lines.push(
    `Server 3a is server 3 with \`archive: { tier: createPgArchive() }\`; the archiver runs in a process of its own with the library's default options. ` +
      `Everything ran on the bench's Redis and on a PostgreSQL database the stage created for itself (\`${archive.database ?? '?'}\`, dropped at the end), in one schema per part.`,
  );
  for (const failure of archive.failures) lines.push('', `**The ${failure.part} part failed**, its figures are missing:`, '', '```', failure.error, '```');
  lines.push('', renderMarkdown(coldTierTargetsTable(archive)));
  if (archive.throughput) lines.push(...throughputMarkdown(archive.throughput));
  if (archive.path) lines.push(...pathMarkdown(archive.path));
  if (archive.restore) lines.push(...restoreMarkdown(archive.restore));
  return lines;
}

function throughputMarkdown(throughput: ThroughputSummary): string[] {
  return [
    '',
    '### Archive throughput against the append rate',
    '',
    `Each round, a fresh session on 3a receives ${throughput.appendsPerLoad} appends from ${throughput.connections} connections (the append scenario) while the archiver is stopped; ` +
      `then the archiver is started and the bench times how long every session's backlog takes to return to zero (LLEN of each backlog the archive index names, polled every ${throughput.pollMs} ms). ` +
      `Archived turns/s is the turns PostgreSQL gained over that time; the ratio divides it by the append req/s of the same round (target: at least ${THROUGHPUT_TARGET}x). ` +
      'All of one session\'s backlog is drained by one archiver lane, one batch after another (other lanes serve other sessions): the archiver\'s slowest case. ' +
      `So that the stopped archiver does not turn appends away before the drain is timed, 3a runs with \`archive.maxBacklog\` ${throughput.maxBacklog} (default 10,000 per session); the bound costs one LLEN whatever its value.`,
    '',
    renderMarkdown(drainTable(throughput)),
    '',
    'The same load on another fresh session with the archiver running beside it (sharing the machine\'s cores with the server, Redis, PostgreSQL and the load generator): what was left in the backlog when the last append was answered, and how long until it was empty.',
    '',
    renderMarkdown(concurrentTable(throughput)),
    '',
    `Exactly once: the archive holds ${throughput.check.archivedTurns} turns in ${throughput.check.conversations} conversations for ${throughput.check.expectedTurns} turns appended over ${throughput.check.sessions} sessions (warm-up included); ` +
      `${throughput.check.mismatched === 0 ? 'each conversation holds exactly seqs 1..turnCount of its session' : `${throughput.check.mismatched} sessions do not match their conversation`}.`,
  ];
}

function pathMarkdown(path: PathSummary): string[] {
  const append = path.comparisons.find((entry) => entry.scenario === 'append');
  const commands = append ? append.with.commands.map((entry) => `\`${entry.command}\``).join(', ') : '';
  const underLoad = path.comparisons
    .map((entry) => `${entry.scenario} ${num(entry.without.median.commandsPerRequest, 3)} / ${num(entry.with.median.commandsPerRequest, 3)}`)
    .join(', ');
  const lines = [
    '',
    '### The request path with the cold tier on',
    '',
    `Server 3, server 3a and a second process of server 3 (3′, the control), one logged-in session each (${DEFAULT_HISTORY}-turn history), under read, append and touch in ${path.rounds} interleaved rounds; ` +
      "in each round a scenario's three runs follow one another, in an order that rotates from round to round. No archiver runs during this part: it is the request path alone (the throughput tables above have appends with the archiver beside them). " +
      '"3a ÷ 3" is the median over rounds of the two servers\' ratio within a round, which cancels the machine\'s drift between rounds. ' +
      '"noise" is how far 3′ ÷ 3 strayed from 1 in its worst round: two identical servers measured the same way differ by that much, so a 3a ÷ 3 closer to 1 is "within noise". ' +
      'CPU per request (the server process plus redis-server, from /proc) is the steadier figure on a shared machine; the redis-server column is where the cold tier\'s extra work lands.',
    '',
    renderMarkdown(pathTable(path)),
    '',
    `Commands per request are those MONITOR lists for a few requests sent one at a time${commands ? ` (3a append: ${commands}, as 3's)` : ''}; ` +
      'the cold tier adds work inside the append script (the backlog\'s LLEN, RPUSH of a copy of the turn, PEXPIRE: "in scripts"), not round trips. ' +
      `Its only extra command is the announcement of a session to the archiver (\`EVALSHA agent-session:archive-register\`, at most once per session, process and \`registerEveryMs\`): ${path.announcements} in the ${num(path.seconds)} s of this part, ` +
      `counted by its ZADD in INFO commandstats. Under load (INFO commandstats over each run, 3 / 3a): ${underLoad}.`,
  ];
  if (append && Number.isFinite(append.redisCpuExtraUs)) {
    lines.push(
      '',
      `An append with the cold tier on costs redis-server ${num(append.redisCpuExtraUs)} µs more (${num(append.without.median.redisCpuUsPerRequest)} → ${num(append.with.median.redisCpuUsPerRequest)} µs): ` +
        'the script also writes the turn, about 500 bytes, to the backlog. Where Redis, the server and the load generator share a few cores, that shows in req/s too.',
    );
  }
  return lines;
}

function restoreMarkdown(restore: RestoreSummary): string[] {
  return [
    '',
    `### Restoring a ${restore.turns}-turn conversation`,
    '',
    `A ${restore.turns}-turn conversation (about 500-byte turns) is appended through the store and archived by an archiver; its Redis keys are deleted, then it is resumed with \`store.resume()\` (window ${restore.window}) ${restore.runs} times, its keys deleted before each run. ` +
      `Beside it, the pattern an app writes by hand: the whole conversation as one JSON array in one row (\`(id text primary key, doc jsonb)\`, ${num(restore.document.jsonBytes / 1024)} KiB of JSON, ${num(restore.document.storedBytes / 1024)} KiB as stored), read with one SELECT and its newest ${restore.window} turns written back with RPUSH in one MULTI. ` +
      'The two alternate run by run, timed in the runner process as an app would see them (nearest-rank percentiles). ' +
      'They do not do the same work: the hand-written restore brings back no metadata, tool calls, notes or user binding, checks no owner, does nothing to keep the next seq from being reused, and does not keep two restores from racing; agent-session\'s does all of that.' +
      (restore.failures > 0 ? ` **${restore.failures} restores did not produce the expected ${restore.window} turns.**` : ''),
    '',
    renderMarkdown(restoreTable(restore)),
  ];
}

/** The named columns of a table, for the narrower stdout summary. */
function columns(table: Table, keep: number[]): Table {
  const pick = (cells: string[]) => keep.map((index) => cells[index] ?? '');
  return {
    head: pick(table.head),
    rows: table.rows.map(pick),
    numeric: keep.flatMap((index, position) => (table.numeric?.includes(index) ? [position] : [])),
  };
}

/** The cold tier's part of the stdout summary. */
export function coldTierText(archive: ColdTierResults): string[] {
  if (archive.skipped !== undefined) return [`Cold tier not run: ${archive.skipped}`];
  const sections = [`Cold tier (issue 9)\n${renderText(coldTierTargetsTable(archive))}`];
  if (archive.throughput) sections.push(renderText(drainTable(archive.throughput)), renderText(concurrentTable(archive.throughput)));
  if (archive.path) {
    const table = columns(pathTable(archive.path), [0, 1, 2, 4, 7, 8, 9, 11, 12, 13]);
    sections.push(`Request path, 3 vs 3a (${archive.path.rounds} rounds; noise from a second process of 3; ${archive.path.announcements} announcements)\n${renderText(table)}`);
  }
  if (archive.restore) {
    const restore = archive.restore;
    sections.push(`Restore of ${restore.turns} turns, window ${restore.window}, ${restore.runs} runs each\n${renderText(columns(restoreTable(restore), [0, 2, 3, 4, 5]))}`);
  }
  for (const failure of archive.failures) sections.push(`Cold tier: the ${failure.part} part failed: ${failure.error.split('\n')[0]}`);
  return sections;
}
