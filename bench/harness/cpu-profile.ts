import { readFileSync } from 'node:fs';

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and tells where a request's CPU
 * time goes: inclusive time per group (an npm package, a file of this repo,
 * a Node internal module), divided by the requests served. Idle time and
 * samples under module loading (start-up) are left out.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const LOADING = /node:internal\/modules\/|\/node_modules\/tsx\//;

/** "express-session", "@redis/client", "src/express/store.ts", "node:net", "(garbage collector)". */
function groupOf(frame: ProfileNode['callFrame'], repoRoot: string): string {
  const { url, functionName } = frame;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  if (url.includes(repoRoot)) return url.slice(url.indexOf(repoRoot) + repoRoot.length);
  return url ? url.replace(/^node:internal\//, 'node:') : functionName;
}

export function cpuPerRequest(file: string, requests: number, repoRoot: string): Array<{ group: string; usPerRequest: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, index) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of selfTime) {
    const stack: ProfileNode[] = [];
    for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) stack.push(nodes.get(current)!);
    if (stack[0]?.callFrame.functionName === '(idle)' || stack.some((node) => LOADING.test(node.callFrame.url))) continue;
    busy += micros;
    for (const group of new Set(stack.map((node) => groupOf(node.callFrame, repoRoot)))) {
      if (group === '(root)') continue;
      inclusive.set(group, (inclusive.get(group) ?? 0) + micros);
    }
  }
  inclusive.set('all (busy)', busy);
  return [...inclusive]
    .map(([group, micros]) => ({ group, usPerRequest: micros / Math.max(requests, 1) }))
    .sort((a, b) => b.usPerRequest - a.usPerRequest);
}
