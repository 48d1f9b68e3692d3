import { test } from 'node:test';
import assert from 'node:assert/strict';
import { training } from 'genlab';

test('LiveHistory redraws its named figure on every push; History.figure refuses unknown options', () => {
  const history = new training.LiveHistory('epoch', ['loss'], { name: 'curves', title: 'Loss' });
  history.push({ epoch: 1, loss: 2 });
  history.push({ epoch: 2, loss: 1 });
  assert.deepEqual(history.column('loss'), [2, 1]);
  assert.throws(
    () => history.figure('epoch', ['loss'], { name: 'curves' } as never),
    /History.figure: unknown option 'name'; the options are title, xTitle, yTitle, logY/,
  );
});
