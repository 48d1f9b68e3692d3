/**
 * Running one notebook for the grader: Jupyter's client (run_cells.py) and the tslab kernel
 * together, inside a bubblewrap sandbox of their own, with the results read back from a file
 * descriptor once they are done.
 *
 * Inside the sandbox: a read-only view of the system (/usr), of Node and Python, and of the kit at
 * /kit (node_modules, the native kernels, data/, and at /kit/lib a library the grader compiled
 * itself from lib/'s sources); the notebook, the kernelspec and the grader's files, read-only at
 * /kit/grader; a private, size-limited scratch (/tmp and the kernel's working directory
 * /kit/notebooks); no network; its own PID namespace (every process dies with it), hostname, IPC
 * and user namespace (no further ones); limits on each process's memory, CPU time, file size and
 * on the number of processes, and a wall-time limit on the whole. No instructor notebook, hidden
 * test, other submission or grading output is in view. When the grader runs as root, the sandbox
 * runs as an unprivileged user (nobody) so that the process limit applies.
 *
 * `--no-sandbox` runs the same commands directly, in a work folder under build/, with the
 * grader's permissions.
 */
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MODELS_ENV, modelsRoot } from 'genlab/dist/runtime/paths';
import { KERNEL_NAME, Notebook, ROOT, findPython, kernelSpec } from '../jupyter';
import { serializeNotebook } from './release';

export interface Limits {
  /** Seconds one cell may run. */
  cellTimeout: number;
  /** Seconds the whole notebook may run (counted from its first kernel's start). */
  submissionTimeout: number;
  /** Bytes of memory each process may use. */
  memory: number;
  /** Processes and threads the run may have at once (enforced when not run as root). */
  tasks: number;
  /** Bytes of cell outputs kept in the executed notebook. */
  output: number;
  /** Bytes of each writable scratch folder (/tmp, the working directory). */
  scratch: number;
}

export const DEFAULT_LIMITS: Limits = {
  cellTimeout: 120,
  submissionTimeout: 900,
  memory: 4 * 2 ** 30,
  tasks: 256,
  output: 16 * 2 ** 20,
  scratch: 512 * 2 ** 20,
};

/** Bytes the kernel's records for the grader may take. */
const MAX_RECORD_BYTES = 64 * 2 ** 20;
/** Seconds for starting the sandbox and Jupyter before the notebook's own limit starts. */
const STARTUP_SECONDS = 120;

export interface Job {
  /** Names the run in the sandbox's command line (`ps` shows which submission it grades). */
  tag: string;
  notebook: Notebook;
  /** Environment for the kernel, besides what the runner sets. */
  env: Record<string, string>;
  /** Files given to the kernel read-only, by name; `fileEnv` names one in a variable. */
  files: Record<string, string>;
  fileEnv: Record<string, string>;
  /** Load the grader's preload (watching forbidden library functions) into the kernel. */
  preload: boolean;
  /**
   * Show the instructor's trained models (runtime.modelsRoot()) read-only, for full-size runs;
   * else the kernel saves what it trains (a quick-mode classifier...) in its scratch.
   */
  models: boolean;
  limits: Limits;
}

export interface JobResult {
  /** The executed notebook: written inside the sandbox, so as untrusted as the student's code. */
  executed: Notebook | null;
  /** What the kernel appended to $GENLAB_GRADING_OUTPUT (untrusted likewise). */
  records: string;
  recordsTruncated: boolean;
  /** Why there is no executed notebook, or null. */
  problem: string | null;
}

export interface Runner {
  sandboxed: boolean;
  run(job: Job): Promise<JobResult>;
}

export const OUTPUT_ENV = 'GENLAB_GRADING_OUTPUT';
export const TAG_ENV = 'GENLAB_GRADING_TAG';
/**
 * Settings of the kit's kernel for grading: no static PNG copies of figures (each would start a
 * browser); the executed notebook keeps the figures themselves.
 */
const GRADING_KERNEL_ENV = { GENLAB_STATIC_FIGURES: '0' };

/** The kit's environment variables that reach the kernel (backend choice, threads...). */
const PASSED_ENV = /^GENLAB_(?!GRADING_|QUICK$|MODELS$)/;

function kitEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => PASSED_ENV.test(e[0]) && e[1] !== undefined,
    ),
  );
}

interface Spawned {
  command: string[];
  /** Data written to file descriptors 4, 5, ... of the child. */
  inputs: Buffer[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs the command; reads fd 3 (the bundle) with a cap; kills it all at the wall-time limit. */
function runBundled(spawned: Spawned, limits: Limits): Promise<JobResult> {
  const cap = limits.output + MAX_RECORD_BYTES + 16 * 2 ** 20;
  const wall = (limits.submissionTimeout + STARTUP_SECONDS) * 1000;
  return new Promise((resolve) => {
    const child = spawn(spawned.command[0], spawned.command.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', ...spawned.inputs.map(() => 'pipe' as const)],
      env: spawned.env,
      cwd: spawned.cwd,
    });
    let stderr = '';
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    let timedOut = false;
    child.on('error', (err) => {
      stderr += `\n${err.message}`;
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8192);
    });
    const bundle = child.stdio[3] as NodeJS.ReadableStream;
    bundle.on('data', (d: Buffer) => {
      size += d.length;
      if (size > cap) {
        overflow = true;
        child.kill('SIGKILL');
      } else chunks.push(d);
    });
    bundle.on('error', () => undefined);
    spawned.inputs.forEach((data, i) => {
      const stream = child.stdio[4 + i] as NodeJS.WritableStream;
      stream.on('error', () => undefined);
      stream.end(data);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, wall);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const failed = (why: string): JobResult => ({
        executed: null,
        records: '',
        recordsTruncated: false,
        problem: why,
      });
      if (overflow) return resolve(failed('its results were larger than the grader accepts'));
      if (timedOut)
        return resolve(failed(`it ran past the time limit (${limits.submissionTimeout} s)`));
      const text = Buffer.concat(chunks).toString('utf8');
      if (text === '') {
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        return resolve(
          failed(
            `the notebook runner stopped without results (${signal ?? `exit status ${code}`})` +
              (tail ? `: ${tail}` : ''),
          ),
        );
      }
      try {
        const parsed = JSON.parse(text) as {
          notebook?: Notebook;
          output?: string;
          output_truncated?: boolean;
        };
        resolve({
          executed: parsed.notebook ?? null,
          records: typeof parsed.output === 'string' ? parsed.output : '',
          recordsTruncated: parsed.output_truncated === true,
          problem: parsed.notebook ? null : 'the notebook runner returned no notebook',
        });
      } catch {
        resolve(failed("the results were garbled (something wrote into the runner's output)"));
      }
    });
  });
}

function runCellsArgs(
  python: string,
  runCells: string,
  input: string,
  output: string,
  cwd: string,
  recordsFile: string,
  limits: Limits,
): string[] {
  return [
    python,
    runCells,
    input,
    output,
    '--kernel',
    KERNEL_NAME,
    '--cwd',
    cwd,
    '--cell-timeout',
    String(limits.cellTimeout),
    '--total-timeout',
    String(limits.submissionTimeout),
    '--max-output-bytes',
    String(limits.output),
    '--output-file',
    recordsFile,
    '--max-record-bytes',
    String(MAX_RECORD_BYTES),
    '--bundle-fd',
    '3',
  ];
}

/** Where the kit and its library are, for a sandbox. */
export interface Kit {
  /** The grader's own build (library.ts): the library's package.json and dist/, and kernel/. */
  library: string;
}

const KIT = '/kit';
const KIT_KERNEL = `${KIT}/kernel`;
const GRADER_DIR = `${KIT}/grader`;
const WORK_DIR = `${KIT}/notebooks`;
/** Where the kernel writes its records: a file system of its own, which a full scratch spares. */
const RECORDS_DIR = `${KIT}/records`;
const SANDBOX_OUTPUT = `${RECORDS_DIR}/output.jsonl`;
const SANDBOX_MODELS = `${KIT}/build/models`;
/** /etc entries the dynamic linker, Python and Node read; nothing else of /etc is shown. */
const ETC = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/localtime',
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/hosts',
  '/etc/mime.types',
];
/** Unprivileged user and group the sandbox runs as when the grader is root. */
const NOBODY = 65534;

let pythonInfo: { executable: string; prefixes: string[] } | undefined;

/** Debian's (or $GENLAB_PYTHON's) Python with Jupyter, and the install folders to show. */
function python(): { executable: string; prefixes: string[] } {
  if (!pythonInfo) {
    const r = spawnSync(
      findPython(),
      ['-c', 'import sys, json; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix]))'],
      { encoding: 'utf8' },
    );
    const [executable, ...prefixes] = JSON.parse(r.stdout) as string[];
    pythonInfo = { executable: fs.realpathSync(executable), prefixes };
  }
  return pythonInfo;
}

/** Host folders outside /usr that the kernel needs (a Node or Python installed elsewhere). */
function extraSystemDirs(): string[] {
  const node = path.dirname(path.dirname(fs.realpathSync(process.execPath)));
  const dirs = [node, ...python().prefixes, path.dirname(python().executable)];
  return [...new Set(dirs)].filter((d) => d !== '/' && !d.startsWith('/usr/') && d !== '/usr');
}

/** Why bubblewrap cannot sandbox here, or null when it can. */
export function sandboxProblem(): string | null {
  if (process.platform !== 'linux')
    return `there is no bubblewrap on ${process.platform} (it needs Linux namespaces)`;
  if (!path.isAbsolute(onPath('bwrap'))) return 'bubblewrap (bwrap) is not installed';
  const drop = privilegeDrop();
  if (drop.length > 0 && !path.isAbsolute(drop[0]))
    return (
      'setpriv (util-linux) is missing: as root, the grader needs it to run the sandbox as an ' +
      'unprivileged user'
    );
  const command = [
    ...privilegeDrop(),
    onPath('bwrap'),
    ...systemBinds(),
    '--unshare-all',
    '--unshare-user',
    '--die-with-parent',
    '--',
    'true',
  ];
  const probe = spawnSync(command[0], command.slice(1), { encoding: 'utf8' });
  if (probe.error) return `bubblewrap (bwrap) cannot be started (${probe.error.message})`;
  if (probe.status !== 0)
    return `bubblewrap (bwrap) does not work here: ${
      (probe.stderr ?? '').trim() || `exit ${probe.status}`
    }`;
  return null;
}

/** The absolute path of a command on PATH (the sandbox is started with an empty environment). */
function onPath(command: string): string {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const file = path.join(dir, command);
    if (dir && fs.existsSync(file)) return file;
  }
  return command;
}

/** The setpriv command that drops to an unprivileged user when running as root, else none. */
function privilegeDrop(): string[] {
  if (typeof process.geteuid !== 'function' || process.geteuid() !== 0) return [];
  return [
    onPath('setpriv'),
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    '--clear-groups',
    '--inh-caps=-all',
  ];
}

function systemBinds(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const host = `/${top}`;
    const stat = fs.lstatSync(host, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(host), host);
    else args.push('--ro-bind', host, host);
  }
  for (const entry of ETC) args.push('--ro-bind-try', entry, entry);
  for (const dir of extraSystemDirs()) args.push('--ro-bind', dir, dir);
  return args;
}

function sandboxEnv(job: Job): Record<string, string> {
  const nodeDir = path.dirname(fs.realpathSync(process.execPath));
  return {
    ...kitEnv(),
    PATH: [...new Set([nodeDir, '/usr/local/bin', '/usr/bin', '/bin'])].join(':'),
    HOME: '/tmp',
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    JUPYTER_PATH: `${GRADER_DIR}/jupyter`,
    JUPYTER_RUNTIME_DIR: '/tmp/jupyter-runtime',
    JUPYTER_CONFIG_DIR: '/tmp/jupyter-config',
    JUPYTER_DATA_DIR: '/tmp/jupyter-data',
    IPYTHONDIR: '/tmp/ipython',
    PYTHONDONTWRITEBYTECODE: '1',
    OPENBLAS_NUM_THREADS: '1',
    ...GRADING_KERNEL_ENV,
    [MODELS_ENV]: job.models ? SANDBOX_MODELS : '/tmp/models',
    ...job.env,
    [TAG_ENV]: job.tag,
    [OUTPUT_ENV]: SANDBOX_OUTPUT,
    ...Object.fromEntries(
      Object.entries(job.fileEnv).map(([key, name]) => [key, `${GRADER_DIR}/${name}`]),
    ),
    ...(job.preload ? { NODE_OPTIONS: `--require=${KIT}/lib/dist/grading/preload.js` } : {}),
  };
}

/** The kernelspec with the kernel's code at /kit/kernel (from the grader's own build). */
function sandboxKernelSpec(): string {
  const spec = kernelSpec() as { argv: string[] };
  return JSON.stringify({
    ...spec,
    argv: [process.execPath, `${KIT_KERNEL}/main.js`, ...spec.argv.slice(2)],
  });
}

/** The bubblewrap runner. */
export function sandboxRunner(kit: Kit): Runner {
  return {
    sandboxed: true,
    run(job: Job): Promise<JobResult> {
      const inputs: Buffer[] = [];
      const data = (content: string, dest: string): string[] => {
        inputs.push(Buffer.from(content));
        return ['--ro-bind-data', String(3 + inputs.length), dest];
      };
      const { limits } = job;
      const scratch = String(limits.scratch);
      const bind = (host: string, dest: string) =>
        fs.existsSync(host) ? ['--ro-bind', host, dest] : [];
      const bwrap = [
        '--unshare-all',
        '--unshare-user',
        '--disable-userns',
        '--die-with-parent',
        '--new-session',
        '--hostname',
        'grading',
        '--clearenv',
        ...Object.entries(sandboxEnv(job)).flatMap(([k, v]) => ['--setenv', k, v]),
        ...systemBinds(),
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '--size',
        String(16 * 2 ** 20),
        '--tmpfs',
        '/dev/shm',
        '--remount-ro',
        '/dev',
        '--size',
        scratch,
        '--tmpfs',
        '/tmp',
        '--size',
        String(MAX_RECORD_BYTES + 2 ** 20),
        '--tmpfs',
        RECORDS_DIR,
        ...bind(path.join(ROOT, 'node_modules'), `${KIT}/node_modules`),
        ...bind(path.join(ROOT, 'package.json'), `${KIT}/package.json`),
        ...bind(kit.library, `${KIT}/lib`),
        ...bind(path.join(kit.library, 'kernel'), KIT_KERNEL),
        ...bind(path.join(ROOT, 'native', 'build'), `${KIT}/native/build`),
        ...bind(path.join(ROOT, '.native'), `${KIT}/.native`),
        ...bind(path.join(ROOT, 'data'), `${KIT}/data`),
        ...(job.models ? bind(modelsRoot(), SANDBOX_MODELS) : []),
        ...bind(
          path.join(ROOT, 'scripts', 'grading', 'run_cells.py'),
          `${GRADER_DIR}/run_cells.py`,
        ),
        ...data(sandboxKernelSpec(), `${GRADER_DIR}/jupyter/kernels/${KERNEL_NAME}/kernel.json`),
        ...data(serializeNotebook(job.notebook), `${GRADER_DIR}/notebook.ipynb`),
        ...Object.entries(job.files).flatMap(([name, content]) =>
          data(content, `${GRADER_DIR}/${name}`),
        ),
        '--size',
        scratch,
        '--tmpfs',
        WORK_DIR,
        '--remount-ro',
        '/',
        '--chdir',
        WORK_DIR,
        '--',
        'prlimit',
        `--data=${limits.memory}`,
        `--cpu=${Math.ceil(limits.submissionTimeout + STARTUP_SECONDS)}`,
        `--nproc=${limits.tasks}`,
        '--core=0',
        '--',
        ...runCellsArgs(
          python().executable,
          `${GRADER_DIR}/run_cells.py`,
          `${GRADER_DIR}/notebook.ipynb`,
          // The executed notebook comes back through the bundle only.
          '/dev/null',
          WORK_DIR,
          SANDBOX_OUTPUT,
          limits,
        ),
      ];
      // bwrap itself gets only the tag: its environment shows inside the sandbox (/proc/1).
      return runBundled(
        {
          command: [...privilegeDrop(), onPath('bwrap'), ...bwrap],
          inputs,
          env: { [TAG_ENV]: job.tag },
        },
        limits,
      );
    },
  };
}

/** Folder of --no-sandbox runs: inside the kit, so that the kernel resolves `genlab` from it. */
export const WORK_ROOT = path.join(ROOT, 'build', 'grading-work');
let workCounter = 0;

/** The runner of --no-sandbox: the same commands, with the grader's permissions. */
export function unsandboxedRunner(): Runner {
  return {
    sandboxed: false,
    async run(job: Job): Promise<JobResult> {
      const dir = path.join(
        WORK_ROOT,
        `${os.hostname()}-${process.pid}-${++workCounter}-${crypto.randomBytes(4).toString('hex')}`,
      );
      const graderDir = path.join(dir, 'grader');
      const cwd = path.join(dir, 'notebooks');
      fs.mkdirSync(graderDir, { recursive: true });
      fs.mkdirSync(cwd);
      try {
        const kernels = path.join(graderDir, 'jupyter', 'kernels', KERNEL_NAME);
        fs.mkdirSync(kernels, { recursive: true });
        fs.writeFileSync(path.join(kernels, 'kernel.json'), JSON.stringify(kernelSpec()));
        const input = path.join(graderDir, 'notebook.ipynb');
        fs.writeFileSync(input, serializeNotebook(job.notebook));
        for (const [name, content] of Object.entries(job.files))
          fs.writeFileSync(path.join(graderDir, name), content);
        const records = path.join(dir, 'output.jsonl');
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          ...job.env,
          [TAG_ENV]: job.tag,
          JUPYTER_PATH: path.join(graderDir, 'jupyter'),
          OPENBLAS_NUM_THREADS: '1',
          ...GRADING_KERNEL_ENV,
          [OUTPUT_ENV]: records,
          ...Object.fromEntries(
            Object.entries(job.fileEnv).map(([k, name]) => [k, path.join(graderDir, name)]),
          ),
        };
        if (job.preload)
          env.NODE_OPTIONS = `--require=${path.join(ROOT, 'lib', 'dist', 'grading', 'preload.js')}`;
        const args = runCellsArgs(
          findPython(),
          path.join(ROOT, 'scripts', 'grading', 'run_cells.py'),
          input,
          path.join(dir, 'executed.ipynb'),
          cwd,
          records,
          job.limits,
        );
        return await runBundled(
          { command: [...args, '--die-with-parent', String(process.pid)], inputs: [], env, cwd },
          job.limits,
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Removes the work folders of --no-sandbox runs whose grader (on this host) is no longer running:
 * what a killed grader left behind. Its runner and kernel stopped with it.
 */
export function removeStaleWork(): void {
  const host = os.hostname();
  for (const entry of fs.existsSync(WORK_ROOT) ? fs.readdirSync(WORK_ROOT) : []) {
    const m = /^(.*)-(\d+)-\d+-[0-9a-f]+$/.exec(entry);
    if (!m || m[1] !== host || isAlive(Number(m[2]))) continue;
    fs.rmSync(path.join(WORK_ROOT, entry), { recursive: true, force: true });
  }
}

/** Whether a process with this id runs on this host. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
