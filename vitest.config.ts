import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests and examples import the package by its public name, as users do.
    alias: [
      { find: /^agent-session\/express$/, replacement: src('express/index.ts') },
      { find: /^agent-session\/koa$/, replacement: src('koa/index.ts') },
      { find: /^agent-session\/observer$/, replacement: src('observer/index.ts') },
      { find: /^agent-session\/archive$/, replacement: src('archive/index.ts') },
      { find: /^agent-session\/tool-cache$/, replacement: src('tool-cache/index.ts') },
      { find: /^agent-session\/metrics$/, replacement: src('metrics/index.ts') },
      { find: /^agent-session$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file talks to real redis-server processes; two cores do not gain from more.
    fileParallelism: true,
    maxWorkers: 2,
    // `npm run coverage`: V8 coverage of the library's TypeScript (not of the
    // Lua, which runs inside Redis; the guard and error-mapping tests cover that).
    coverage: {
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text-summary', 'html'],
      reportsDirectory: 'coverage',
    },
  },
});
