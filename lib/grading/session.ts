/**
 * The kernel's side of a grading run; the grader writes the cells that call these, instructors and
 * students never do.
 *
 * - Reference run (the instructor's notebook, $GENLAB_GRADING_REFERENCE names its settings): each
 *   graded call of a test cell becomes `grading.session.site('<test>', <n>).check(...)`, which
 *   draws the inputs from the grader's secret seed and appends the inputs and the reference's
 *   results to $GENLAB_GRADING_OUTPUT, besides checking the solution as usual.
 * - Student run ($GENLAB_GRADING_PLAN names the plan: the inputs, never the expected results): each
 *   test cell becomes `grading.session.report('<test>', <n>, () => <checked expression>)`, which
 *   calls the student's function on the plan's inputs and appends what it gave (or threw) to
 *   $GENLAB_GRADING_OUTPUT. The grader judges those answers in its own process, so nothing the
 *   student's code does in this kernel (patching modules, globals, Math, tfjs) changes a verdict.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { currentSeedValue, generatorState, restoreGeneratorState, seed } from '../runtime/random';
import {
  CheckOptions,
  checkAnswerAt,
  checkAt,
  checkCloseAt,
  checkRangeAt,
  errorInfo,
  outcomeOf,
} from './check';
import { AnswerOptions, Outcome, Range, Tolerance } from './judge';
import {
  AnswerRecord,
  Plan,
  SiteRecord,
  answerToJson,
  planFromJson,
  referenceToJson,
} from './records';
import { decode, typeName } from './values';
import { Wire } from './wire';

export const REFERENCE_ENV = 'GENLAB_GRADING_REFERENCE';
export const PLAN_ENV = 'GENLAB_GRADING_PLAN';
export const OUTPUT_ENV = 'GENLAB_GRADING_OUTPUT';

/** Numbers one answer may send; a larger result is described by its shape only. */
const MAX_ANSWER_ENTRIES = 2 ** 22;

// Taken when the library loads (before any student code when the grader preloads it), so that
// patching fs later does not change where the records go.
const { appendFileSync, readFileSync } = fs;

function outputFile(): string {
  const file = process.env[OUTPUT_ENV];
  if (!file) throw new Error(`${OUTPUT_ENV} is not set: this is not a grading run`);
  return file;
}

function append(record: unknown): void {
  appendFileSync(outputFile(), `${JSON.stringify(record)}\n`);
}

/** Records one site of the reference run. */
export interface SiteRecorder {
  /** Runs `draw` with the generator seeded for this site and trial, then restores it. */
  seeded<T>(trial: number, draw: () => T): T;
  /** Throws unless every value is data that can be sent into a submission's kernel. */
  sendable(values: Wire[], what: string): void;
  record(site: SiteRecord): void;
}

let referenceSeed: number | null | undefined;

function loadReferenceSeed(): number | null {
  if (referenceSeed === undefined) {
    const file = process.env[REFERENCE_ENV];
    referenceSeed = file ? (JSON.parse(readFileSync(file, 'utf8')) as { seed: number }).seed : null;
  }
  return referenceSeed;
}

/** FNV-1a of the text, mixed with the secret base seed: a non-negative 31-bit seed. */
function siteSeed(base: number, text: string): number {
  let h = (0x811c9dc5 ^ base) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 1;
}

function describeOther(w: Wire): string | null {
  if (Array.isArray(w)) {
    for (const item of w) {
      const found = describeOther(item);
      if (found) return found;
    }
    return null;
  }
  if (typeof w !== 'object') return null;
  if ('other' in w) return w.other;
  if ('object' in w) {
    for (const [, v] of w.object) {
      const found = describeOther(v);
      if (found) return found;
    }
  }
  return null;
}

function recorder(test: string, call: number, base: number): SiteRecorder {
  return {
    seeded<T>(trial: number, draw: () => T): T {
      const state = generatorState();
      const before = currentSeedValue();
      seed(siteSeed(base, `${test}#${call}#${trial}`));
      try {
        return draw();
      } finally {
        if (state) {
          seed(before ?? 0);
          restoreGeneratorState(state);
        }
      }
    },
    sendable(values: Wire[], what: string): void {
      values.forEach((w, i) => {
        const other = describeOther(w);
        if (other !== null)
          throw new Error(
            `test ${test}: ${what}: argument ${i + 1} contains ${other}, which cannot be sent ` +
              `to a submission's kernel; inputs must be numbers, strings, arrays, typed arrays, ` +
              `tensors or plain objects of them`,
          );
      });
    },
    record(site: SiteRecord): void {
      append(referenceToJson({ test, call, ...site }));
    },
  };
}

/**
 * The graded call number `call` of test `test`, as the grader rewrites it in the instructor's
 * notebook: the same checks, recording for the grader in a reference run (and plain checks
 * otherwise).
 */
export function site(test: string, call: number) {
  const base = loadReferenceSeed();
  const r = base === null ? null : recorder(test, call, base);
  return {
    check: (student: unknown, reference: unknown, options: CheckOptions) =>
      checkAt(r, student, reference, options),
    checkClose: (actual: unknown, expected: unknown, options?: Tolerance & { what?: string }) =>
      checkCloseAt(r, actual, expected, options),
    checkRange: (actual: unknown, range: Range & { what?: string }) =>
      checkRangeAt(r, actual, range),
    checkAnswer: (
      actual: unknown,
      expected: string | number,
      options?: AnswerOptions & { what?: string },
    ) => checkAnswerAt(r, actual, expected, options),
  };
}

let plan: Plan | undefined;

/** The plan of a student run, read once. */
export function loadPlan(): Plan {
  if (!plan) {
    const file = process.env[PLAN_ENV];
    if (!file)
      throw new Error(
        'grading.session.report sends answers to the grader; it works only when the grader runs ' +
          'the notebook',
      );
    plan = planFromJson(JSON.parse(readFileSync(file, 'utf8')));
  }
  return plan;
}

let takeForbiddenCalls: (() => string[]) | null = null;

/**
 * Called once by the grader's preload (instrument.ts), before any student code runs: `take`
 * returns the watched library functions called since its last call.
 */
export function installForbiddenTally(take: () => string[]): void {
  if (takeForbiddenCalls) throw new Error('the tally of forbidden calls is already installed');
  takeForbiddenCalls = take;
}

/**
 * Asks the student's code for the answers of one site of the plan and appends them to the output
 * file: for a function site, `subject()` is the student's function, called on each trial's inputs
 * (up to the first that throws); for a value site, `subject()` is the value itself.
 */
export function report(test: string, call: number, subject: () => unknown): void {
  const planned = loadPlan().sites.find((s) => s.test === test && s.call === call);
  if (!planned) return;
  const forbidden = loadPlan().forbidden[test] ?? [];
  const record: AnswerRecord = {
    test,
    call,
    forbidden: [],
    instrumented: takeForbiddenCalls !== null,
  };
  const watched = <T>(fn: () => T): T => {
    takeForbiddenCalls?.();
    try {
      return fn();
    } finally {
      for (const name of takeForbiddenCalls?.() ?? [])
        if (forbidden.includes(name) && !record.forbidden.includes(name))
          record.forbidden.push(name);
    }
  };
  const options = { maxEntries: MAX_ANSWER_ENTRIES };
  if (planned.kind === 'value') {
    record.outcome = watched(() => outcomeOf(subject, [], options));
  } else {
    let fn: unknown;
    try {
      fn = subject();
    } catch (error) {
      record.outcome = { error: errorInfo(error) };
    }
    if (!record.outcome && typeof fn !== 'function') record.notFunction = typeName(fn);
    else if (!record.outcome) {
      record.trials = [];
      for (const args of planned.args ?? []) {
        tf.engine().startScope();
        let outcome: Outcome;
        try {
          const given = args.map(decode);
          outcome = watched(() => outcomeOf(fn as (...a: unknown[]) => unknown, given, options));
        } finally {
          tf.engine().endScope();
        }
        record.trials.push(outcome);
        if ('error' in outcome) break;
      }
    }
  }
  append(answerToJson(record));
  const which = call > 0 ? ` (check ${call + 1})` : '';
  console.log(
    `${test}${which}: answers sent to the grader, which compares them with the reference.`,
  );
}
