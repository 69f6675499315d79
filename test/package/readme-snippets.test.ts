import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, type RedisServer } from '../harness/redis-server.js';

/**
 * The README's Express and Koa snippets, as a new user runs them: the
 * library packed with `npm pack` (its prepack build included), installed into
 * a project made with `npm init -y` and `tsc --init`, with exactly the
 * packages of the README's Install lines, then type-checked with the strict
 * settings of `tsc --init` and run against a private redis-server.
 *
 * Installing from the registry would need the network; instead the tarball
 * is unpacked into node_modules/agent-session as npm would, and each package
 * of the Install lines (plus what npm adds by itself: the package's
 * dependencies and required peers) is linked from this repository's
 * node_modules. Packages left out of both are absent, so a snippet or an
 * entry point that needs one fails here as it would for a user. The project
 * lives under the OS temp dir, outside this repository, so Node cannot find
 * the repository's node_modules by walking up.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const SECRET = 'a-readme-snippet-test-secret-of-48-characters!!!';

/** The code block after `<!-- snippet: name -->` in the README. */
function snippet(name: string): string {
  const match = new RegExp(`<!-- snippet: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no code block marked <!-- snippet: ${name} -->`);
  return `${match[1]}\n`;
}

/** The packages an Install block names: every argument of its `npm install` lines but the flags. */
function installedPackages(name: string): string[] {
  const packages: string[] = [];
  for (const line of snippet(name).split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    if (words[0] === 'npm' && words[1] === 'install') packages.push(...words.slice(2).filter((word) => !word.startsWith('-')));
  }
  return packages;
}

let work: string;
let tarball: string;
let redis: RedisServer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'agent-session-readme-'));
  // One pack for both projects; prepack builds dist/ first.
  await run('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const packed = readdirSync(work).filter((file) => file.endsWith('.tgz'));
  expect(packed).toHaveLength(1);
  tarball = join(work, packed[0]!);
  redis = await startRedisServer();
}, 600_000);

afterAll(async () => {
  await redis?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A project as `npm init -y` and `tsc --init` make it, with the packages of one Install block. */
async function createProject(name: string, install: string[]): Promise<string> {
  const dir = join(work, name);
  mkdirSync(join(dir, 'node_modules', 'agent-session'), { recursive: true });
  await run('npm', ['init', '-y'], { cwd: dir });
  // The README: the package is an ES module, loaded with import.
  await run('npm', ['pkg', 'set', 'type=module'], { cwd: dir });
  await run('tar', ['-xzf', tarball, '-C', join(dir, 'node_modules', 'agent-session'), '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(dir, 'node_modules', 'agent-session', 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  // What `npm install agent-session` adds without being asked: dependencies and required (non-optional) peers.
  const automatic = [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}).filter((peer) => manifest.peerDependenciesMeta?.[peer]?.optional !== true),
  ];
  for (const pkg of new Set([...install.filter((pkg) => pkg !== 'agent-session'), ...automatic])) {
    const target = join(root, 'node_modules', pkg);
    if (!existsSync(target)) throw new Error(`${pkg} (named in the README's Install) is not installed in this repository; add it to devDependencies`);
    const link = join(dir, 'node_modules', pkg);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link, 'dir');
  }
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '--init'], { cwd: dir });
  // The one change the README asks for (and tsc --init's own comment suggests), with the
  // strict settings spelled out so that the test does not depend on this TypeScript's defaults.
  const init = readFileSync(join(dir, 'tsconfig.json'), 'utf8');
  expect(init).toContain('"types": []');
  writeFileSync(join(dir, 'tsconfig.init.json'), init);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: './tsconfig.init.json',
      compilerOptions: {
        module: 'nodenext',
        types: ['node'],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
      },
      include: ['*.ts'],
    }),
  );
  return dir;
}

/** Type-checks and compiles the project; fails with tsc's messages. */
async function compile(dir: string): Promise<void> {
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await run(process.execPath, [tsc, '-p', '.'], { cwd: dir }).catch((error: { stdout?: string }) => error);
  expect('stdout' in result ? String(result.stdout) : '', 'tsc reported errors').toBe('');
}

/** Runs the compiled app until `request` has been answered, and returns that answer. */
async function runApp(dir: string, request: (base: string) => Promise<Response>): Promise<{ status: number; body: unknown }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['app.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', REDIS_URL: redis.url, SESSION_SECRET: SECRET, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.includes(`listening on http://localhost:${port}`)) resolve();
      };
      child.stdout.on('data', check);
      void exited.then(([code]) => reject(new Error(`the app exited (${String(code)}) before listening:\n${output}`)));
    });
    const response = await request(`http://127.0.0.1:${port}`);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the assertion shows the text
    }
    return { status: response.status, body };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  }
}

describe("the README's snippets in a new TypeScript project, from the packed tarball", () => {
  it('the tarball holds the build, the README, LICENSE and CHANGELOG.md', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n');
    for (const file of ['package/package.json', 'package/README.md', 'package/LICENSE', 'package/CHANGELOG.md', 'package/dist/index.js', 'package/dist/express/index.d.ts']) {
      expect(files).toContain(file);
    }
    expect(files.some((file) => file.endsWith('.lua'))).toBe(true);
    expect(files.some((file) => file.startsWith('package/src/') || file.startsWith('package/test/'))).toBe(false);
  });

  it('Express: compiles with strict settings and answers POST /chat from Redis', async () => {
    const dir = await createProject('express-app', installedPackages('install-express'));
    writeFileSync(join(dir, 'app.ts'), snippet('express'));
    // Beside it, the check that every optional input of the public types accepts an explicit undefined.
    copyFileSync(fileURLToPath(new URL('./fixtures/optional-inputs.ts', import.meta.url)), join(dir, 'optional-inputs.ts'));
    await compile(dir);
    const answer = await runApp(dir, (base) =>
      fetch(`${base}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'hello from the README' }) }),
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ turns: [{ seq: 1, role: 'user', content: 'hello from the README' }] });
  });

  it('Koa: compiles with strict settings and answers from Redis, without the Express packages installed', async () => {
    const install = installedPackages('install-koa');
    expect(install).not.toContain('express-session');
    expect(install).not.toContain('connect-redis');
    const dir = await createProject('koa-app', install);
    writeFileSync(join(dir, 'app.ts'), snippet('koa'));
    await compile(dir);
    const answer = await runApp(dir, (base) => fetch(`${base}/`));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ turns: [{ seq: 1, role: 'user', content: 'hello' }] });
  });
});
