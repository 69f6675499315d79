// Build step after tsc, which only emits JavaScript: copies the files the
// compiled modules read at run time from beside themselves (new URL('./lua/...',
// import.meta.url), new URL('./migrations/', import.meta.url)) to the same
// place under dist/: every Lua script and include, and every SQL migration.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, 'src');
const dist = join(root, 'dist');
const EXTENSIONS = ['.lua', '.sql'];

/** Every asset file under `dir`, by a plain walk (recursive readdir differs across Node 20 minors). */
function* assetFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* assetFiles(path);
    else if (entry.isFile() && EXTENSIONS.includes(extname(entry.name))) yield path;
  }
}

const copied = Object.fromEntries(EXTENSIONS.map((extension) => [extension, 0]));
for (const from of assetFiles(src)) {
  const to = join(dist, relative(src, from));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  copied[extname(from)] += 1;
}
// Each kind must be there: a build that lost one would only fail at run time.
for (const extension of EXTENSIONS) {
  if (copied[extension] === 0) throw new Error(`no ${extension} files found under ${src}`);
}
console.log(`copied ${EXTENSIONS.map((extension) => `${copied[extension]} ${extension}`).join(', ')} files to ${relative(root, dist)}/`);
