/**
 * What crosses the boundary of a grading run, as JSON lines: the records of the reference run (the
 * instructor's notebook: inputs chosen with the grader's secret seed and the reference's results),
 * the plan sent into a submission's kernel (inputs only), and the answers that come back. A graded
 * call of a test cell is a "site", named by its test id and its position in the cell. Free of
 * TensorFlow.js: the grader's process reads and writes these without loading the library's models.
 */
import { AnswerOptions, Outcome, Range, Tolerance } from './judge';
import { Wire, WireLimits, wireFromJson, wireToJson } from './wire';

export type SiteMethod = 'check' | 'checkClose' | 'checkRange' | 'checkAnswer';
export const SITE_METHODS: readonly SiteMethod[] = [
  'check',
  'checkClose',
  'checkRange',
  'checkAnswer',
];

/** What the reference run records for one graded call. */
export interface ReferenceRecord {
  test: string;
  call: number;
  method: SiteMethod;
  /** The function's name (check) or what the value is (the others), for messages. */
  name: string;
  /** check: parameter names of the solution, for showing inputs. */
  params?: string[] | null;
  /** check: the inputs and the reference's result of each trial. */
  trials?: Array<{ args: Wire[]; expected: Wire }>;
  /** checkClose: the expected value. */
  expected?: Wire;
  tolerance?: Tolerance;
  /** checkRange: the accepted range. */
  range?: Range;
  /** checkAnswer: the right answer and how answers are compared. */
  answer?: string | number;
  answerOptions?: AnswerOptions;
}

/** The site's part of a reference record, as the check functions give it. */
export type SiteRecord = Omit<ReferenceRecord, 'test' | 'call'>;

/** What a submission's kernel is asked at one site: a function to call on inputs, or a value. */
export interface PlanSite {
  test: string;
  call: number;
  kind: 'function' | 'value';
  /** function sites: the arguments of each trial. */
  args?: Wire[][];
}

export interface Plan {
  sites: PlanSite[];
  /** Library functions (paths like "distributions.kl") each test's answers must not call. */
  forbidden: Record<string, string[]>;
}

/** What a submission's kernel answered at one site. Untrusted: read with answerFromJson. */
export interface AnswerRecord {
  test: string;
  call: number;
  /** value sites: the value, or the error computing it threw. */
  outcome?: Outcome;
  /** function sites: what the checked name was, when it was not a function. */
  notFunction?: string;
  /** function sites: one outcome per trial, up to the first that threw. */
  trials?: Outcome[];
  /** Forbidden library functions called while answering. */
  forbidden: string[];
  /** Whether calls of forbidden functions were being watched. */
  instrumented: boolean;
}

function outcomeToJson(o: Outcome): unknown {
  return 'error' in o ? o : { value: wireToJson(o.value) };
}

export function referenceToJson(r: ReferenceRecord): unknown {
  return {
    ...r,
    trials: r.trials?.map((t) => ({
      args: t.args.map(wireToJson),
      expected: wireToJson(t.expected),
    })),
    expected: r.expected === undefined ? undefined : wireToJson(r.expected),
  };
}

/** Reads a reference record (written by the grader's own run; checked all the same). */
export function referenceFromJson(json: unknown): ReferenceRecord {
  const r = json as ReferenceRecord & { trials?: Array<{ args: unknown[]; expected: unknown }> };
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.test !== 'string' ||
    !Number.isInteger(r.call)
  )
    throw new Error('a reference record needs a test id and a call number');
  if (!SITE_METHODS.includes(r.method)) throw new Error(`unknown method ${String(r.method)}`);
  return {
    ...r,
    trials: r.trials?.map((t) => ({
      args: t.args.map((a) => wireFromJson(a)),
      expected: wireFromJson(t.expected),
    })),
    expected: r.expected === undefined ? undefined : wireFromJson(r.expected),
  };
}

export function planToJson(plan: Plan): unknown {
  return {
    forbidden: plan.forbidden,
    sites: plan.sites.map((s) => ({ ...s, args: s.args?.map((a) => a.map(wireToJson)) })),
  };
}

export function planFromJson(json: unknown): Plan {
  const p = json as {
    sites: Array<PlanSite & { args?: unknown[][] }>;
    forbidden: Plan['forbidden'];
  };
  return {
    forbidden: p.forbidden ?? {},
    sites: p.sites.map((s) => ({ ...s, args: s.args?.map((a) => a.map((w) => wireFromJson(w))) })),
  };
}

export function answerToJson(a: AnswerRecord): unknown {
  return {
    ...a,
    outcome: a.outcome && outcomeToJson(a.outcome),
    trials: a.trials?.map(outcomeToJson),
  };
}

/** Limits on what one answer record may hold (the rest of the file is read the same way). */
const ANSWER_LIMITS: WireLimits = { maxDepth: 32, maxEntries: 2 ** 22, maxString: 10_000 };

function shortText(value: unknown, max: number): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function outcomeFromJson(json: unknown): Outcome {
  const o = json as { value?: unknown; error?: { name?: unknown; message?: unknown } };
  if (typeof o !== 'object' || o === null) throw new Error('an outcome must be an object');
  if ('error' in o && o.error && typeof o.error === 'object')
    return {
      error: { name: shortText(o.error.name, 100), message: shortText(o.error.message, 2000) },
    };
  if ('value' in o) return { value: wireFromJson(o.value, ANSWER_LIMITS) };
  throw new Error('an outcome needs a value or an error');
}

/**
 * Reads one answer record that a submission's kernel wrote, checking every part (it is untrusted:
 * the student's code runs in that kernel and can write anything there). Throws on anything
 * malformed.
 */
export function answerFromJson(json: unknown): AnswerRecord {
  const a = json as Record<string, unknown>;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new Error('not an object');
  if (typeof a.test !== 'string' || !Number.isInteger(a.call))
    throw new Error('an answer needs a test id and a call number');
  const forbidden = Array.isArray(a.forbidden) ? a.forbidden.map((f) => shortText(f, 200)) : [];
  const record: AnswerRecord = {
    test: a.test,
    call: a.call as number,
    forbidden,
    instrumented: a.instrumented === true,
  };
  if (a.outcome !== undefined) record.outcome = outcomeFromJson(a.outcome);
  if (a.notFunction !== undefined) record.notFunction = shortText(a.notFunction, 200);
  if (a.trials !== undefined) {
    if (!Array.isArray(a.trials) || a.trials.length > 10_000)
      throw new Error('trials must be a list');
    record.trials = a.trials.map(outcomeFromJson);
  }
  return record;
}

/** The key of a site in maps: "<test>#<call>". */
export function siteKey(test: string, call: number): string {
  return `${test}#${call}`;
}
