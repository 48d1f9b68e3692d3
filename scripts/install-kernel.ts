/**
 * npm run kernel: registers this checkout's tslab as the Jupyter kernel 'tslab' for the current
 * user, so JupyterLab and VS Code open the notebooks with the project's own kernel.
 */
import { spawnSync } from 'child_process';
import { findPython, installKernelSpec } from './jupyter';

try {
  const r = spawnSync(
    findPython(),
    ['-c', 'from jupyter_core.paths import jupyter_data_dir; print(jupyter_data_dir())'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`cannot find Jupyter's data folder: ${r.stderr}`);
  const dir = installKernelSpec(r.stdout.trim());
  console.log(
    `Installed the kernel 'TypeScript (genlab)' in ${dir}. Pick it in JupyterLab or VS Code.`,
  );
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 2;
}
