/**
 * npm run kernel: registers the kit's kernel as the Jupyter kernel 'tslab' ("TypeScript
 * (genlab)") for the current user, so JupyterLab, the classic Notebook and VS Code open the
 * notebooks with it, and installs and enables the kit's classic-Notebook extension, which draws
 * figures offline.
 */
import { spawnSync } from 'child_process';
import {
  enableNotebookExtension,
  findPython,
  installKernelSpec,
  installNotebookExtension,
} from './jupyter';

function jupyterDir(kind: 'data' | 'config'): string {
  const r = spawnSync(
    findPython(),
    ['-c', `from jupyter_core.paths import jupyter_${kind}_dir; print(jupyter_${kind}_dir())`],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`cannot find Jupyter's ${kind} folder: ${r.stderr}`);
  return r.stdout.trim();
}

try {
  const data = jupyterDir('data');
  const kernel = installKernelSpec(data);
  console.log(`Installed the kernel 'TypeScript (genlab)' in ${kernel}.`);
  installNotebookExtension(data);
  const config = enableNotebookExtension(jupyterDir('config'));
  console.log(`Installed the classic Notebook's figure extension (enabled in ${config}).`);
  console.log('Pick the kernel in JupyterLab, the classic Notebook or VS Code.');
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 2;
}
