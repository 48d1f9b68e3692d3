/**
 * npm run native: installs the native TensorFlow backend (@tensorflow/tfjs-node) into .native/,
 * beside the project's own dependencies. It cannot be an ordinary dependency: its install script
 * downloads libtensorflow from Google's storage, and next to danfojs-node npm would make it
 * required (see README). Needs internet access to storage.googleapis.com. After it, notebooks
 * report `backend tensorflow`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runtime } from 'genlab';
import { ROOT } from './jupyter';

const VERSION = '4.22.0';
const dir = path.join(ROOT, runtime.NATIVE_PREFIX);
fs.mkdirSync(dir, { recursive: true });
// npm 11 blocks dependency install scripts unless allowScripts lists them; tfjs-node's script
// fetches libtensorflow.
const manifest = {
  name: 'genlab-native-backend',
  private: true,
  allowScripts: { '@tensorflow/tfjs-node': true },
};
fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(
  `Installing @tensorflow/tfjs-node@${VERSION} into ${dir} (downloads libtensorflow, ~100 MB)...`,
);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const install = spawnSync(
  npm,
  [
    'install',
    '--no-audit',
    '--no-fund',
    '--foreground-scripts',
    `@tensorflow/tfjs-node@${VERSION}`,
  ],
  { cwd: dir, stdio: 'inherit' },
);
if (install.status !== 0) {
  console.error(
    '\nThe native backend did not install. Its install step downloads libtensorflow from ' +
      'storage.googleapis.com;\n' +
      'without access to that host (offline, firewall) it cannot work. Nothing else changed: the ' +
      'kit keeps using\n' +
      'the wasm backend. Remove the partial install with `rm -rf .native`.',
  );
  process.exit(1);
}
const check = spawnSync(
  process.execPath,
  [
    '-e',
    "require('genlab').runtime.init({ backend: 'tensorflow' }).catch(e => { " +
      'console.error(e.message); process.exit(1); })',
  ],
  {
    cwd: ROOT,
    encoding: 'utf8',
  },
);
process.stdout.write(check.stdout);
if (check.status !== 0) {
  console.error(`@tensorflow/tfjs-node installed but does not load:\n${check.stderr}`);
  process.exit(1);
}
console.log(
  'The native backend is installed; notebooks and benchmarks now use it (GENLAB_BACKEND=wasm ' +
    'picks wasm again).',
);
