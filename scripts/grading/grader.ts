/**
 * Grading one submission: put the instructor's graded test cells back (edited ones restored,
 * deleted and hidden ones inserted where the instructor has them), execute it through Jupyter with
 * the project's tslab kernel in a fresh kernel with time limits, and read each test cell's outcome.
 * Never throws for a broken submission: whatever goes wrong becomes 0 points with the reason.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  KERNEL_NAME,
  Notebook,
  NotebookCell,
  ROOT,
  cellSource,
  findPython,
  installKernelSpec,
  jupyterEnv,
  readNotebook,
} from '../jupyter';
import { claimedTestId } from './format';
import { InstructorTest, instructorTests, serializeNotebook } from './release';

export interface ScoreRow {
  submission: string;
  test: string;
  points: number;
  max_points: number;
  reason: string;
}

export interface GradeOptions {
  /** The instructor notebook; default: found from the submission (see `findInstructorNotebook`). */
  source?: string;
  /** Folder of instructor notebooks to look in (default notebooks/). */
  sourceDir?: string;
  /** Seconds one cell may run (default 120). */
  cellTimeout?: number;
  /** Seconds the whole submission may run (default 900). */
  submissionTimeout?: number;
  /** Where the executed copies go (default: not kept). */
  executedDir?: string;
  /** Extra environment for the kernel (the CLI sets GENLAB_QUICK=1). */
  env?: Record<string, string>;
}

/** Why a test got its points, when the cell itself is not the whole story. */
type Note = 'edited' | 'deleted' | null;

export interface PreparedSubmission {
  notebook: Notebook;
  notes: Map<string, Note>;
}

/**
 * The instructor notebook of a submission: `options.source` if given, else the notebook named in
 * the submission's metadata (`genlab.assignment`, written by `npm run assignments`), else the one
 * with the submission's file name, in `options.sourceDir` (default notebooks/).
 */
export function findInstructorNotebook(
  submissionFile: string,
  submission: Notebook | null,
  options: GradeOptions = {},
): string {
  if (options.source) return path.resolve(options.source);
  const dir = path.resolve(options.sourceDir ?? path.join(ROOT, 'notebooks'));
  const assignment = (submission?.metadata?.genlab as { assignment?: unknown } | undefined)
    ?.assignment;
  const candidates = [
    typeof assignment === 'string' ? `${assignment}.ipynb` : null,
    path.basename(submissionFile),
  ].filter((c): c is string => !!c);
  for (const c of candidates) {
    const file = path.join(dir, path.basename(c));
    if (fs.existsSync(file)) return file;
  }
  throw new Error(
    `no instructor notebook for ${submissionFile}: looked for ${candidates.join(' and ')} in ` +
      `${dir} (pass --source NOTEBOOK)`,
  );
}

function normalized(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();
}

function copyCell(cell: NotebookCell): NotebookCell {
  return JSON.parse(JSON.stringify(cell));
}

/**
 * The notebook to execute: the submission's cells (outputs cleared) with every instructor test in
 * place and unmodified. A student cell that claims a test id (metadata or `// Test <id>` header)
 * gets the instructor's source and metadata (noted as edited if it differed); a missing test is
 * inserted after the nearest cell that precedes it in the instructor notebook (noted as deleted
 * unless it is hidden). Cells claiming unknown or duplicate test ids lose their test metadata (they
 * still run, ungraded).
 */
export function prepareSubmission(
  instructor: Notebook,
  tests: InstructorTest[],
  submission: Notebook,
): PreparedSubmission {
  const cells = submission.cells.map((c) => {
    const copy = copyCell(c);
    if (copy.cell_type === 'code') {
      copy.outputs = [];
      copy.execution_count = null;
    }
    return copy;
  });
  const byId = new Map(tests.map((t) => [t.id, t]));
  const matched = new Set<string>();
  const notes = new Map<string, Note>();
  for (const cell of cells) {
    const claimed = claimedTestId(cell);
    const genlab = cell.metadata.genlab as Record<string, unknown> | undefined;
    if (claimed === null) {
      if (genlab) delete genlab.test;
      continue;
    }
    const test = byId.get(claimed);
    if (!test || matched.has(claimed)) {
      if (genlab) delete genlab.test;
      continue;
    }
    matched.add(claimed);
    notes.set(
      claimed,
      normalized(cellSource(cell)) === normalized(cellSource(test.cell)) ? null : 'edited',
    );
    cell.source = test.cell.source;
    cell.metadata = copyCell(test.cell).metadata;
  }
  const usedIds = new Set(cells.map((c) => c.id));
  const position = (instructorCell: NotebookCell): number => {
    const testId = claimedTestId(instructorCell);
    return cells.findIndex(
      (c) =>
        (instructorCell.id !== undefined && c.id === instructorCell.id) ||
        (testId !== null && claimedTestId(c) === testId),
    );
  };
  for (const test of tests) {
    if (matched.has(test.id)) continue;
    notes.set(test.id, test.hidden ? null : 'deleted');
    let at = cells.length;
    for (let j = test.index - 1; j >= 0; j--) {
      const k = position(instructor.cells[j]);
      if (k >= 0) {
        at = k + 1;
        break;
      }
    }
    const inserted = copyCell(test.cell);
    inserted.outputs = [];
    inserted.execution_count = null;
    if (inserted.id !== undefined && usedIds.has(inserted.id))
      inserted.id = `${inserted.id}-restored`;
    usedIds.add(inserted.id);
    cells.splice(at, 0, inserted);
  }
  return { notebook: { ...submission, cells }, notes };
}

interface ErrorOutput {
  ename: string;
  evalue: string;
}

function errorsOf(cell: NotebookCell): ErrorOutput[] {
  return (cell.outputs ?? [])
    .filter((o) => o.output_type === 'error')
    .map((o) => ({ ename: String(o.ename ?? 'Error'), evalue: String(o.evalue ?? '') }));
}

/** ANSI colour codes (ESC [ ... letter) in tracebacks. */
const ANSI_ESCAPE = new RegExp(String.fromCharCode(27) + '\\[[0-9;]*[A-Za-z]', 'g');

function firstLine(text: string, max = 300): string {
  const line = text.replace(ANSI_ESCAPE, '').trim().split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** Outcomes that run_cells.py writes itself: their message is the whole reason. */
const RUNNER_OUTCOMES = new Set(['CellTimeout', 'SubmissionTimeout', 'KernelDied', 'NotRun']);

function describeError(e: ErrorOutput): string {
  return firstLine(RUNNER_OUTCOMES.has(e.ename) ? e.evalue : `${e.ename}: ${e.evalue}`);
}

const NOTE_TEXT: Record<Exclude<Note, null>, string> = {
  edited: "the test cell was edited; graded with the instructor's version",
  deleted: "the test cell was deleted; restored from the instructor's notebook",
};

/**
 * Scores an executed notebook: a test earns its points when its cell ran without an error. A failed
 * test's reason is its error; if an ordinary cell between the previous test and this one failed too
 * (typically the exercise cell: a syntax error, an infinite loop), that cell's error is named as
 * the likely cause.
 */
export function scoreExecuted(
  submission: string,
  executed: Notebook,
  tests: InstructorTest[],
  notes: Map<string, Note>,
): ScoreRow[] {
  const testCellIndex = new Map<string, number>();
  executed.cells.forEach((c, i) => {
    const id = (c.metadata.genlab as { test?: { id?: string } } | undefined)?.test?.id;
    if (id !== undefined && !testCellIndex.has(id)) testCellIndex.set(id, i);
  });
  return tests.map((test) => {
    const note = notes.get(test.id) ?? null;
    const withNote = (reason: string) =>
      [reason, note ? NOTE_TEXT[note] : ''].filter((r) => r !== '').join('; ');
    const index = testCellIndex.get(test.id);
    const row = { submission, test: test.id, max_points: test.points };
    if (index === undefined)
      return {
        ...row,
        points: 0,
        reason: withNote('the test cell is missing from the executed notebook'),
      };
    const errors = errorsOf(executed.cells[index]);
    if (errors.length === 0) return { ...row, points: test.points, reason: withNote('passed') };
    let reason = describeError(errors[0]);
    for (let j = index - 1; j >= 0; j--) {
      const cell = executed.cells[j];
      if (cell.metadata.genlab && (cell.metadata.genlab as { test?: unknown }).test) break;
      const earlier = errorsOf(cell);
      if (cell.cell_type === 'code' && earlier.length > 0) {
        reason += ` (cell ${j + 1} above failed first: ${describeError(earlier[0])})`;
        break;
      }
    }
    return { ...row, points: 0, reason: withNote(reason) };
  });
}

function failAll(submission: string, tests: InstructorTest[], reason: string): ScoreRow[] {
  if (tests.length === 0) return [{ submission, test: '(all)', points: 0, max_points: 0, reason }];
  return tests.map((t) => ({ submission, test: t.id, points: 0, max_points: t.points, reason }));
}

function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

let workCounter = 0;

/** Grades one submission file; `label` names it in the table (default: its path). Never throws. */
export function gradeSubmission(
  file: string,
  options: GradeOptions = {},
  label = file,
): ScoreRow[] {
  let submission: Notebook | null = null;
  let readError: string | null = null;
  try {
    submission = readNotebook(file);
  } catch (err) {
    readError = (err as Error).message;
  }
  let source: string;
  let instructor: Notebook;
  let tests: InstructorTest[];
  try {
    source = findInstructorNotebook(file, submission, options);
    instructor = readNotebook(source);
    tests = instructorTests(instructor, path.basename(source, '.ipynb'));
  } catch (err) {
    return failAll(label, [], `cannot grade: ${(err as Error).message}`);
  }
  if (!submission) return failAll(label, tests, `the submission cannot be read: ${readError}`);

  const { notebook, notes } = prepareSubmission(instructor, tests, submission);
  const workDir = path.join(ROOT, 'build', 'grading-work');
  fs.mkdirSync(workDir, { recursive: true });
  const stem = `${process.pid}-${++workCounter}-${path.basename(file, '.ipynb').replace(/[^\w.-]/g, '_')}`;
  const input = path.join(workDir, `${stem}.ipynb`);
  const output = path.join(workDir, `${stem}.executed.ipynb`);
  const pidFile = path.join(workDir, `${stem}.kernel-pid`);
  const cellTimeout = options.cellTimeout ?? 120;
  const submissionTimeout = options.submissionTimeout ?? 900;
  try {
    fs.writeFileSync(input, serializeNotebook(notebook));
    installKernelSpec();
    const r = spawnSync(
      findPython(),
      [
        path.join(ROOT, 'scripts', 'grading', 'run_cells.py'),
        input,
        output,
        '--kernel',
        KERNEL_NAME,
        // The kernel starts in the instructor notebook's folder, as when the notebook is run there.
        '--cwd',
        path.dirname(source),
        '--cell-timeout',
        String(cellTimeout),
        '--total-timeout',
        String(submissionTimeout),
        '--pid-file',
        pidFile,
      ],
      {
        encoding: 'utf8',
        env: jupyterEnv(options.env),
        // run_cells enforces the limits itself; this is the backstop if it hangs (SIGTERM makes it
        // kill its kernel).
        timeout: (submissionTimeout + 120) * 1000,
        killSignal: 'SIGTERM',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    if (fs.existsSync(pidFile)) killGroup(Number(fs.readFileSync(pidFile, 'utf8')));
    if (r.status !== 0 || !fs.existsSync(output)) {
      const why = r.error
        ? r.error.message
        : (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
      return failAll(
        label,
        tests,
        `the grader could not execute the submission: ${why || `exit status ${r.status}`}`,
      );
    }
    const executed = readNotebook(output);
    if (options.executedDir) {
      fs.mkdirSync(options.executedDir, { recursive: true });
      fs.copyFileSync(
        output,
        path.join(
          options.executedDir,
          `${label.replace(/[\\/]/g, '__').replace(/\.ipynb$/, '')}.ipynb`,
        ),
      );
    }
    return scoreExecuted(label, executed, tests, notes);
  } catch (err) {
    return failAll(label, tests, `the grader failed on this submission: ${(err as Error).message}`);
  } finally {
    for (const f of [input, output, pidFile]) fs.rmSync(f, { force: true });
  }
}

function csv(header: string[], rows: Array<Array<string | number>>): string {
  const quote = (v: string | number) =>
    /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);
  return [header.join(','), ...rows.map((r) => r.map(quote).join(','))].join('\n') + '\n';
}

/** The score table as CSV (RFC 4180 quoting): one row per submission and test. */
export function toCsv(rows: ScoreRow[]): string {
  return csv(
    ['submission', 'test', 'points', 'max_points', 'reason'],
    rows.map((r) => [r.submission, r.test, r.points, r.max_points, r.reason]),
  );
}

/** One row per submission with its total, for a gradebook. */
export function totalsCsv(rows: ScoreRow[]): string {
  const totals = new Map<string, { points: number; max: number }>();
  for (const r of rows) {
    const t = totals.get(r.submission) ?? { points: 0, max: 0 };
    totals.set(r.submission, { points: t.points + r.points, max: t.max + r.max_points });
  }
  return csv(
    ['submission', 'points', 'max_points'],
    [...totals].map(([s, t]) => [s, t.points, t.max]),
  );
}
