import type { Framework } from '../catalog.js';
import { SCENARIOS } from '../contract.js';
import type { CellSummary, Results } from '../results.js';
import { profiledCommands } from '../summary.js';
import { explainCommand } from './explain.js';

/**
 * The tables of the report, built once from the results and rendered twice:
 * as aligned text on stdout and as Markdown in results.md.
 */
export interface Table {
  head: string[];
  rows: string[][];
  /** Columns aligned right (numbers). */
  numeric?: number[];
}

export const num = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
export const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '–');
const SHORT_NAME: Record<string, string> = { ceiling: 'bare (ceiling)', floor: 'small session (floor)', peer: 'state in session (peer)', agent: 'agent-session' };

export function renderText(table: Table): string {
  const widths = table.head.map((cell, column) => Math.max(cell.length, ...table.rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (table.numeric?.includes(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(table.head), widths.map((width) => '-'.repeat(width)).join('  '), ...table.rows.map(line)].join('\n');
}

export function renderMarkdown(table: Table): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const rule = table.head.map((_, column) => (table.numeric?.includes(column) ? '---:' : '---'));
  return [table.head, rule, ...table.rows].map((row) => `| ${row.map(escape).join(' | ')} |`).join('\n');
}

/** One framework's servers under the three scenarios, with ratios to the peer, the floor and the ceiling. */
export function comparisonTable(results: Results, framework: Framework): Table {
  const rows: string[][] = [];
  for (const scenario of SCENARIOS) {
    for (const cell of results.compare.filter((candidate) => candidate.framework === framework && candidate.scenario === scenario)) {
      const ratios = results.ratios.find((entry) => entry.server === cell.server && entry.scenario === scenario);
      rows.push([
        scenario,
        `${cell.server} ${SHORT_NAME[cell.role]}`,
        num(cell.median.rps),
        num(cell.median.p50, 2),
        num(cell.median.p99, 2),
        num(cell.median.commandsPerRequest, 2),
        cell.role === 'peer' ? '1.00x' : times(ratios?.vsPeer ?? Number.NaN),
        cell.role === 'floor' ? '1.00x' : times(ratios?.vsFloor ?? Number.NaN),
        cell.role === 'ceiling' ? '1.00x' : times(ratios?.vsCeiling ?? Number.NaN),
        cell.appends ? String(cell.appends.lost) : '',
      ]);
    }
  }
  return {
    head: ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'Redis cmds/req', 'vs peer', 'vs floor', 'vs ceiling', 'lost appends'],
    rows,
    numeric: [2, 3, 4, 5, 6, 7, 8, 9],
  };
}

export function targetsTable(results: Results): Table {
  return {
    head: ['target', 'measured', 'met'],
    rows: results.targets.map((target) => [target.goal, target.measured, target.met === null ? 'not measured' : target.met ? 'yes' : 'NO']),
  };
}

export function appendsTable(results: Results): Table {
  return {
    head: ['server', 'successful appends', 'turns the store gained', 'lost'],
    rows: results.compare
      .filter((cell) => cell.appends && cell.role !== 'ceiling')
      .map((cell) => [`${cell.server} ${cell.label}`, String(cell.appends!.ok), String(cell.appends!.stored), String(cell.appends!.lost)]),
    numeric: [1, 2, 3],
  };
}

/** Every command a request sends, per server and scenario, with why. */
export function commandsTable(results: Results): Table {
  const rows: string[][] = [];
  for (const cell of results.compare.filter((candidate) => candidate.role !== 'ceiling')) {
    const total = profiledCommands(cell);
    cell.commands.forEach((entry, index) => {
      rows.push([
        index === 0 ? `${cell.server} ${cell.scenario}` : '',
        index === 0 ? `${num(total, 1)} (load: ${num(cell.median.commandsPerRequest, 2)}; in scripts: ${num(cell.median.inScriptPerRequest, 1)})` : '',
        `\`${entry.command}\`${entry.perRequest === 1 ? '' : ` x${num(entry.perRequest, 2)}`}`,
        explainCommand(entry.command),
      ]);
    });
  }
  return { head: ['server, scenario', 'commands per request', 'command', 'why'], rows };
}

/** Where a request's time goes: CPU of the server process and of redis-server, Redis command time. */
export function costTable(results: Results): Table {
  return {
    head: ['server', 'scenario', 'Node CPU µs/req', 'redis-server CPU µs/req', 'commands in scripts/req'],
    rows: results.compare
      .filter((cell) => cell.role !== 'ceiling' || cell.scenario === 'read')
      .map((cell) => [
        `${cell.server} ${SHORT_NAME[cell.role]}`,
        cell.scenario,
        num(cell.median.nodeCpuUsPerRequest),
        num(cell.median.redisCpuUsPerRequest),
        num(cell.median.inScriptPerRequest, 1),
      ]),
    numeric: [2, 3, 4],
  };
}

export function memoryTable(results: Results): Table {
  return {
    head: ['server', 'bytes per session', 'keys (MEMORY USAGE each)'],
    rows: results.memory.map((entry) => [
      `${entry.server} ${entry.label}`,
      String(entry.bytes),
      entry.keys.map((key) => `\`${key.key}\` ${key.bytes}`).join(', '),
    ]),
    numeric: [1],
  };
}

/** A growth stage: one row per server and size, append and read side by side. */
export function growthTable(cells: CellSummary[], dimension: 'history' | 'sessions'): Table {
  const keys = [...new Set(cells.map((cell) => `${cell.server}|${cell[dimension]}`))];
  const rows = keys.map((key) => {
    const [server, size] = key.split('|');
    const of = (scenario: string) => cells.find((cell) => cell.server === server && String(cell[dimension]) === size && cell.scenario === scenario);
    const append = of('append');
    const read = of('read');
    return [
      `${server} ${SHORT_NAME[append?.role ?? read?.role ?? ''] ?? ''}`,
      size ?? '',
      num(append?.median.rps ?? Number.NaN),
      num(append?.median.p50 ?? Number.NaN, 2),
      num(read?.median.rps ?? Number.NaN),
      num(read?.median.p50 ?? Number.NaN, 2),
      `${num(append?.median.commandsPerRequest ?? Number.NaN, 1)} / ${num(read?.median.commandsPerRequest ?? Number.NaN, 1)}`,
      num(append?.median.nodeCpuUsPerRequest ?? Number.NaN),
      num(append?.median.redisCpuUsPerRequest ?? Number.NaN),
      append?.appends ? String(append.appends.lost) : '',
    ];
  });
  return {
    head: ['server', dimension === 'history' ? 'turns (= window)' : 'live sessions', 'append req/s', 'append p50 ms', 'read req/s', 'read p50 ms', 'cmds/req append / read', 'Node CPU µs/append', 'redis-server CPU µs/append', 'lost appends'],
    rows,
    numeric: [1, 2, 3, 4, 5, 7, 8, 9],
  };
}
