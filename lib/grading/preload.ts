/**
 * Loaded by the grader into a submission's kernel before any student code (`node --require`,
 * through NODE_OPTIONS): watches the library functions the plan's exercises forbid (forbid.ts) and
 * hands the tally to the session, which notes forbidden calls beside each answer. Has effect only
 * in a grading run ($GENLAB_GRADING_PLAN set).
 */
import { PLAN_ENV, installForbiddenTally, loadPlan } from './session';
import { watchCalls } from './forbid';

if (process.env[PLAN_ENV]) {
  try {
    const paths = [...new Set(Object.values(loadPlan().forbidden).flat())];
    if (paths.length > 0) {
      installForbiddenTally(watchCalls(require('../index'), paths));
      // The cells the grader writes call session.report: keep it the library's own.
      Object.defineProperty(require('./session'), 'report', {
        writable: false,
        configurable: false,
      });
    }
  } catch (error) {
    // The answers then say that nothing was watched; the grader reports it.
    process.stderr.write(`genlab grading: forbidden functions are not watched: ${String(error)}\n`);
  }
}
