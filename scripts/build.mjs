// `npm run build`: the production build. TypeScript to JavaScript in dist/ (tsc, same tree), then
// the files the code reads beside itself: the Lua scripts, the Avro schemas, the default rules,
// the stack script, and the demo's data. dist/cli/main.js is the compiled CLI (bin/memberflow-prod.js).
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const started = Date.now();
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
const assets = ['shared/redis/lua', 'schemas', 'config/rules.default.json', 'stack', 'data/online-retail', 'data/demo'];
for (const a of assets) {
  mkdirSync(dirname(join(dist, a)), { recursive: true });
  cpSync(join(root, a), join(dist, a), { recursive: true });
}
process.stdout.write(
  `build: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s (${assets.length} asset paths copied)\n`,
);
