/** The grading fixture: a small instructor notebook with an exercise of each kind. */
import * as path from 'path';
import { ROOT } from '../../scripts/jupyter';

export const NAME = '99-grading-fixture';
export const FIXTURE = path.join(ROOT, 'tests', 'grading', 'fixtures', `${NAME}.ipynb`);
/** Its graded tests, in order. */
export const TESTS = [
  '99-square',
  '99-square-negative',
  '99-row-sums',
  '99-gaussian-kl',
  '99-softplus',
  '99-descent',
  '99-shape',
];
