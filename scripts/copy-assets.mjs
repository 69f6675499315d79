// Build step after tsc, which only emits JavaScript: copies every Lua script
// and include under src/ to the same place under dist/, where the compiled
// modules read them at start-up (new URL('./lua/...', import.meta.url)).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Every .lua file under `dir`, by a plain walk (recursive readdir differs across Node 20 minors). */
function* luaFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* luaFiles(path);
    else if (entry.isFile() && entry.name.endsWith('.lua')) yield path;
  }
}

let copied = 0;
for (const from of luaFiles(src)) {
  const to = join(dist, relative(src, from));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  copied += 1;
}
if (copied === 0) throw new Error(`no .lua files found under ${src}`);
console.log(`copied ${copied} Lua files to ${relative(root, dist)}/`);
