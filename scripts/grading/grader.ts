/**
 * Grading one submission, in three steps that keep the verdict out of the student's reach:
 *
 * 1. The reference run (once per instructor notebook, cached): the instructor's notebook runs in a
 *    sandbox with each graded call recording its inputs, drawn from a seed derived from the
 *    grader's secret key, and the reference's results (session.ts).
 * 2. The student run: the submission, with the instructor's test cells put back (edited ones
 *    restored, deleted and hidden ones re-inserted), runs in a sandbox of its own; each test cell
 *    is replaced by one that hands the student's function (or value) to the kernel's session,
 *    which answers on the recorded inputs. The kernel sees the inputs, never the expected results,
 *    the seed, the reference code or the hidden tests' checks.
 * 3. The verdict: the grader's own process compares the answers with the references (judge.ts).
 *    A test earns its points when every one of its graded calls agrees; else 0 with the reason.
 *
 * Nothing a student does inside the kernel changes a reference or a comparison; the worst it can
 * do is spoil its own answers. A broken submission never stops the grader: whatever goes wrong
 * costs only the points it affects.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  Failure,
  formatArgs,
  judgeAnswer,
  judgeRange,
  judgeTrial,
  judgeValue,
  thrown,
} from 'genlab/dist/grading/judge';
import {
  AnswerRecord,
  Plan,
  ReferenceRecord,
  answerFromJson,
  planToJson,
  referenceFromJson,
  siteKey,
} from 'genlab/dist/grading/records';
import { Notebook, NotebookCell, ROOT, cellSource, readNotebook } from '../jupyter';
import { feedbackPage, plainText } from './feedback';
import { claimedTestId } from './format';
import { InstructorTest, instructorTests, serializeNotebook } from './release';
import { ScoreRow, SubmissionResult, RESULT_FORMAT, fileStem, writeAtomic } from './results';
import { Job, JobResult, Limits, Runner } from './sandbox';
import { referenceSource, studentSource } from './testcells';

const REFERENCE_ENV = 'GENLAB_GRADING_REFERENCE';
const PLAN_ENV = 'GENLAB_GRADING_PLAN';

export interface GradeOptions {
  /** The instructor notebook; default: found from the submission (see `findInstructorNotebook`). */
  source?: string;
  /** Folder of instructor notebooks to look in (default notebooks/). */
  sourceDir?: string;
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

/** An instructor notebook, read and checked once for all its submissions. */
export interface InstructorNotebook {
  name: string;
  file: string;
  notebook: Notebook;
  tests: InstructorTest[];
  /** sha256 of the file. */
  sha256: string;
}

export function loadInstructorNotebook(file: string): InstructorNotebook {
  const notebook = readNotebook(file);
  const name = path.basename(file, '.ipynb');
  return {
    name,
    file,
    notebook,
    tests: instructorTests(notebook, name),
    sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
  };
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

function cleared(cell: NotebookCell): NotebookCell {
  const copy = copyCell(cell);
  if (copy.cell_type === 'code') {
    copy.outputs = [];
    copy.execution_count = null;
  }
  return copy;
}

/**
 * The submission with every instructor test in place and unmodified (outputs cleared). A student
 * cell that claims a test id (metadata or `// Test <id>` header) gets the instructor's source and
 * metadata (noted as edited if it differed); a missing test is inserted after the nearest cell
 * that precedes it in the instructor notebook (noted as deleted unless it is hidden). Cells
 * claiming unknown or duplicate test ids lose their test metadata (they still run, ungraded).
 */
export function prepareSubmission(
  instructor: Notebook,
  tests: InstructorTest[],
  submission: Notebook,
): PreparedSubmission {
  const cells = submission.cells.map(cleared);
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
    const inserted = cleared(test.cell);
    if (inserted.id !== undefined && usedIds.has(inserted.id))
      inserted.id = `${inserted.id}-restored`;
    usedIds.add(inserted.id);
    cells.splice(at, 0, inserted);
  }
  return { notebook: { ...submission, cells }, notes };
}

/** The test id of a cell that prepareSubmission left graded, or null. */
function gradedTestId(cell: NotebookCell): string | null {
  return (cell.metadata.genlab as { test?: { id?: string } } | undefined)?.test?.id ?? null;
}

function headerLine(test: InstructorTest): string {
  return cellSource(test.cell).split('\n', 1)[0];
}

/** The instructor notebook as the reference run executes it (outputs cleared). */
export function referenceNotebook(instructor: InstructorNotebook): Notebook {
  const byIndex = new Map(instructor.tests.map((t) => [t.index, t]));
  return {
    ...instructor.notebook,
    cells: instructor.notebook.cells.map((cell, i) => {
      const copy = cleared(cell);
      const test = byIndex.get(i);
      if (test) copy.source = referenceSource(cellSource(cell), test.id, test.calls);
      return copy;
    }),
  };
}

/** The prepared submission as its kernel executes it: test cells only report answers. */
export function studentNotebook(
  instructor: InstructorNotebook,
  prepared: PreparedSubmission,
): Notebook {
  const byId = new Map(instructor.tests.map((t) => [t.id, t]));
  return {
    ...prepared.notebook,
    cells: prepared.notebook.cells.map((cell) => {
      const test = byId.get(gradedTestId(cell) ?? '');
      if (!test) return cell;
      return { ...cell, source: studentSource(headerLine(test), test.id, test.calls) };
    }),
  };
}

/** The reference records of an instructor notebook, by site. */
export type Reference = Map<string, ReferenceRecord>;

/** The name of a grading run into `outDir`, shown in its sandboxes' command lines. */
export function runTag(outDir: string): string {
  const hash = crypto.createHash('sha256').update(path.resolve(outDir)).digest('hex');
  return `genlab-grade-${hash.slice(0, 12)}`;
}

/** The seed of an assignment's test inputs: from the secret key, unknown to students. */
export function assignmentSeed(key: string, assignment: string): number {
  return crypto
    .createHmac('sha256', key)
    .update(`genlab inputs: ${assignment}`)
    .digest()
    .readUInt32LE(0);
}

/** ANSI colour codes (ESC [ ... letter) in tracebacks. */
const ANSI_ESCAPE = new RegExp(String.fromCharCode(27) + '\\[[0-9;]*[A-Za-z]', 'g');

function firstLine(text: string, max = 300): string {
  const line = plainText(text.replace(ANSI_ESCAPE, ''), 10_000).trim().split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

interface ErrorOutput {
  ename: string;
  evalue: string;
}

function errorsOf(cell: NotebookCell | undefined): ErrorOutput[] {
  const outputs = cell && Array.isArray(cell.outputs) ? cell.outputs : [];
  return outputs
    .filter((o) => o && o.output_type === 'error')
    .map((o) => ({ ename: String(o.ename ?? 'Error'), evalue: String(o.evalue ?? '') }));
}

/** Outcomes that run_cells.py writes itself: their message is the whole reason. */
const RUNNER_OUTCOMES = new Set(['CellTimeout', 'SubmissionTimeout', 'KernelDied', 'NotRun']);

function describeError(e: ErrorOutput): string {
  return firstLine(RUNNER_OUTCOMES.has(e.ename) ? e.evalue : `${e.ename}: ${e.evalue}`);
}

/**
 * Why a cell of the run gave no answer, from the executed notebook (untrusted: used for words,
 * never for points): its error, and the failed cell above it (since the previous test) if any.
 */
function missingReason(ran: Notebook, executed: Notebook | null, index: number): string {
  const aligned =
    executed !== null &&
    Array.isArray(executed.cells) &&
    executed.cells.length === ran.cells.length &&
    executed.cells.every((c, i) => c?.id === ran.cells[i].id);
  if (!aligned) return 'no answer reached the grader (the run came back incomplete)';
  const errors = errorsOf(executed.cells[index]);
  let reason = errors.length > 0 ? describeError(errors[0]) : 'no answer reached the grader';
  for (let j = index - 1; j >= 0; j--) {
    if (gradedTestId(ran.cells[j])) break;
    const earlier = errorsOf(executed.cells[j]);
    if (ran.cells[j].cell_type === 'code' && earlier.length > 0) {
      reason += ` (cell ${j + 1} above failed first: ${describeError(earlier[0])})`;
      break;
    }
  }
  return reason;
}

/** Reads the reference run's records, checking that every graded call of every test has one. */
export function parseReference(instructor: InstructorNotebook, text: string): Reference {
  const records: Reference = new Map();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const record = referenceFromJson(JSON.parse(line));
    records.set(siteKey(record.test, record.call), record);
  }
  return records;
}

/** The first test of the instructor notebook whose graded calls the reference lacks, or null. */
function incompleteTest(
  instructor: InstructorNotebook,
  reference: Reference,
): InstructorTest | null {
  return (
    instructor.tests.find((t) => t.calls.some((_, n) => !reference.has(siteKey(t.id, n)))) ?? null
  );
}

export interface RunSettings {
  /** Names this grading run in the sandboxes' command lines (see runTag). */
  runTag: string;
  quick: boolean;
  limits: Limits;
  runner: Runner;
}

function kernelEnv(settings: RunSettings): Record<string, string> {
  return { GENLAB_QUICK: settings.quick ? '1' : '0' };
}

/**
 * The reference run of an instructor notebook with the given seed. Throws, naming the test and
 * its error, when the instructor's notebook does not pass its own tests.
 */
export async function referenceRun(
  instructor: InstructorNotebook,
  seed: number,
  settings: RunSettings,
): Promise<{ text: string; reference: Reference }> {
  const notebook = referenceNotebook(instructor);
  const run = await settings.runner.run({
    tag: `${settings.runTag} reference ${instructor.name}`,
    notebook,
    env: kernelEnv(settings),
    files: { 'reference.json': JSON.stringify({ seed }) },
    fileEnv: { [REFERENCE_ENV]: 'reference.json' },
    preload: false,
    models: !settings.quick,
    limits: settings.limits,
  });
  const fail = (why: string) =>
    new Error(`the reference run of the instructor notebook ${instructor.file} failed: ${why}`);
  if (run.problem && !run.records) throw fail(run.problem);
  const reference = parseReference(instructor, run.records);
  const missing = incompleteTest(instructor, reference);
  if (missing) {
    const why = missingReason(notebook, run.executed, missing.index);
    throw fail(`test ${missing.id} (cell ${missing.index + 1}) does not pass: ${why}`);
  }
  return { text: run.records, reference };
}

/** A student run's plan: the reference's inputs (never its results) and the forbidden lists. */
export function buildPlan(instructor: InstructorNotebook, reference: Reference): Plan {
  const sites = instructor.tests.flatMap((t) =>
    t.calls.map((call, n) => {
      const record = reference.get(siteKey(t.id, n)) as ReferenceRecord;
      return call.method === 'check'
        ? {
            test: t.id,
            call: n,
            kind: 'function' as const,
            args: record.trials?.map((x) => x.args),
          }
        : { test: t.id, call: n, kind: 'value' as const };
    }),
  );
  const forbidden = Object.fromEntries(
    instructor.tests
      .filter((t) => t.exercise.forbid.length > 0)
      .map((t) => [t.id, t.exercise.forbid]),
  );
  return { sites, forbidden };
}

/** The answers of a student run, by site (the last one of each counts). Untrusted input. */
export function readAnswers(text: string): {
  answers: Map<string, AnswerRecord>;
  unreadable: number;
} {
  const answers = new Map<string, AnswerRecord>();
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const answer = answerFromJson(JSON.parse(line));
      answers.set(siteKey(answer.test, answer.call), answer);
    } catch {
      unreadable++;
    }
  }
  return { answers, unreadable };
}

/** The verdict at one graded call, or null when the answers agree with the reference. */
function judgeSite(
  record: ReferenceRecord,
  answer: AnswerRecord | undefined,
  missing: string,
): Failure | null {
  if (!answer) return { kind: 'missing', message: missing };
  if (answer.forbidden.length > 0)
    return {
      kind: 'forbidden',
      message:
        `${record.name}: the solution calls ${answer.forbidden.join(', ')}, which this exercise ` +
        `does not allow: write it yourself`,
    };
  if (record.method === 'check') {
    if (answer.outcome && 'error' in answer.outcome)
      return thrown(record.name, answer.outcome.error);
    if (answer.notFunction !== undefined)
      return {
        kind: 'type',
        message:
          `check: the function to check is ${answer.notFunction}; run the exercise cell that ` +
          `defines it first`,
      };
    const trials = record.trials ?? [];
    for (let t = 0; t < trials.length; t++) {
      const outcome = answer.trials?.[t];
      const input = formatArgs(trials[t].args, record.params ?? null);
      if (!outcome)
        return { kind: 'missing', message: `${record.name}: no answer on input ${input}` };
      const failure = judgeTrial(
        record.name,
        input,
        trials[t].expected,
        outcome,
        record.tolerance ?? {},
      );
      if (failure) return failure;
    }
    return null;
  }
  const outcome = answer.outcome;
  if (!outcome) return { kind: 'missing', message: `${record.name}: no answer` };
  if ('error' in outcome) return thrown(record.name, outcome.error);
  if (record.method === 'checkClose')
    return judgeValue(outcome.value, record.expected as never, record.tolerance ?? {}, record.name);
  if (record.method === 'checkRange')
    return judgeRange(outcome.value, record.range ?? {}, record.name);
  return judgeAnswer(
    outcome.value,
    record.answer as string | number,
    record.answerOptions ?? {},
    record.name,
  );
}

const NOTE_TEXT: Record<Exclude<Note, null>, string> = {
  edited: "the test cell was edited; graded with the instructor's version",
  deleted: "the test cell was deleted; restored from the instructor's notebook",
};

/** The score rows of a student run: the grader's verdict on every test. */
export function judgeSubmission(
  submission: string,
  instructor: InstructorNotebook,
  reference: Reference,
  ran: Notebook,
  run: JobResult,
  notes: Map<string, Note>,
): ScoreRow[] {
  const { answers, unreadable } = readAnswers(run.records);
  const indexOf = new Map<string, number>();
  ran.cells.forEach((c, i) => {
    const id = gradedTestId(c);
    if (id !== null && !indexOf.has(id)) indexOf.set(id, i);
  });
  return instructor.tests.map((test) => {
    const note = notes.get(test.id) ?? null;
    const extra: string[] = [];
    const index = indexOf.get(test.id) ?? -1;
    let missing =
      index < 0
        ? 'the test cell is missing from the run'
        : run.executed === null
          ? `no answer reached the grader: ${run.problem ?? 'the run returned nothing'}`
          : missingReason(ran, run.executed, index);
    if (run.executed !== null && run.problem) missing += ` (the run stopped: ${run.problem})`;
    if (run.recordsTruncated || unreadable > 0)
      missing += ' (some answers were unreadable or too large)';
    let failure: Failure | null = null;
    test.calls.forEach((_, n) => {
      if (failure) return;
      const key = siteKey(test.id, n);
      const answer = answers.get(key);
      failure = judgeSite(reference.get(key) as ReferenceRecord, answer, missing);
      if (answer && test.exercise.forbid.length > 0 && !answer.instrumented)
        extra.push('calls of forbidden functions could not be watched in this run');
    });
    const row = { submission, test: test.id, kind: test.exercise.kind, max_points: test.points };
    const reason = [
      failure ? plainText((failure as Failure).message, 1000) : 'passed',
      ...extra,
      note ? NOTE_TEXT[note] : '',
    ]
      .filter((r) => r !== '')
      .join('; ');
    return { ...row, points: failure ? 0 : test.points, reason };
  });
}

/** Everything one submission's grading needs besides the file. */
export interface GradeContext extends RunSettings {
  outDir: string;
  options: GradeOptions;
  /** The reference of an instructor notebook (cached by the caller). */
  reference(instructor: InstructorNotebook): Promise<{ reference: Reference; hash: string }>;
  /** The instructor notebook at a path (read once by the caller). */
  instructor(file: string): InstructorNotebook;
  settingsFingerprint: string;
  keyFingerprint: string;
}

/**
 * Whether a stored result still stands: same submission file, settings and key, and the same
 * reference run of its instructor notebook.
 */
export async function stillValid(
  result: SubmissionResult,
  file: string,
  context: GradeContext,
): Promise<boolean> {
  const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  if (
    result.sha256 !== sha256 ||
    result.settings !== context.settingsFingerprint ||
    result.key !== context.keyFingerprint ||
    result.assignment === null
  )
    return false;
  let notebook: Notebook | null = null;
  try {
    notebook = readNotebook(file);
  } catch {
    // An unreadable submission is still found by its file name.
  }
  try {
    const instructor = context.instructor(findInstructorNotebook(file, notebook, context.options));
    return (await context.reference(instructor)).hash === result.reference;
  } catch {
    return false;
  }
}

function failAll(submission: string, tests: InstructorTest[], reason: string): ScoreRow[] {
  if (tests.length === 0)
    return [{ submission, test: '(all)', kind: '', points: 0, max_points: 0, reason }];
  return tests.map((t) => ({
    submission,
    test: t.id,
    kind: t.exercise.kind,
    points: 0,
    max_points: t.points,
    reason,
  }));
}

/**
 * Grades one submission file and writes its executed notebook, feedback page and result (in that
 * order, each atomically) into the output folder. Throws only for problems of the instructor's
 * side (no instructor notebook that works, a failed reference run): those are not the student's.
 */
export async function gradeSubmission(
  file: string,
  submission: string,
  context: GradeContext,
): Promise<SubmissionResult> {
  const bytes = fs.readFileSync(file);
  const base = {
    format: RESULT_FORMAT,
    submission,
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    settings: context.settingsFingerprint,
    key: context.keyFingerprint,
  } as const;
  let notebook: Notebook | null = null;
  let readError = '';
  try {
    notebook = readNotebook(file);
  } catch (err) {
    readError = (err as Error).message;
  }
  let instructor: InstructorNotebook;
  try {
    instructor = context.instructor(findInstructorNotebook(file, notebook, context.options));
  } catch (err) {
    const rows = failAll(submission, [], `cannot grade: ${(err as Error).message}`);
    return finish(
      { ...base, assignment: null, reference: null, rows, seconds: 0 },
      context,
      null,
      null,
      new Set(),
    );
  }
  const { reference, hash } = await context.reference(instructor);
  const hidden = new Set(instructor.tests.filter((t) => t.hidden).map((t) => t.id));
  const header = { ...base, assignment: instructor.name, reference: hash };
  if (!notebook) {
    const rows = failAll(
      submission,
      instructor.tests,
      `the submission cannot be read: ${readError}`,
    );
    return finish({ ...header, rows, seconds: 0 }, context, null, null, hidden);
  }
  const prepared = prepareSubmission(instructor.notebook, instructor.tests, notebook);
  const ran = studentNotebook(instructor, prepared);
  const plan = buildPlan(instructor, reference);
  const job: Job = {
    tag: `${context.runTag} ${submission}`,
    notebook: ran,
    env: kernelEnv(context),
    files: { 'plan.json': JSON.stringify(planToJson(plan)) },
    fileEnv: { [PLAN_ENV]: 'plan.json' },
    preload: Object.keys(plan.forbidden).length > 0,
    models: !context.quick,
    limits: context.limits,
  };
  const start = Date.now();
  const run = await context.runner.run(job);
  const rows = judgeSubmission(submission, instructor, reference, ran, run, prepared.notes);
  const seconds = (Date.now() - start) / 1000;
  return finish({ ...header, rows, seconds }, context, ran, run.executed, hidden);
}

function finish(
  result: SubmissionResult,
  context: GradeContext,
  ran: Notebook | null,
  executed: Notebook | null,
  hiddenTests: Set<string>,
): SubmissionResult {
  const stem = fileStem(result.submission);
  if (executed && ran)
    writeAtomic(
      path.join(context.outDir, 'executed', `${stem}.ipynb`),
      serializeNotebook(executed),
    );
  writeAtomic(
    path.join(context.outDir, 'feedback', `${stem}.html`),
    feedbackPage({
      submission: result.submission,
      assignment: result.assignment,
      rows: result.rows,
      ran,
      executed,
      hiddenTests,
    }),
  );
  return result;
}
