import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grading, runtime, tf } from 'genlab';

const { check, checkClose, notImplemented, CheckError } = grading;

// The Gaussian KL of the lectures, KL(N(m1, s1^2) || N(m2, s2^2)), as the reference.
function gaussianKl(mu1: number, sigma1: number, mu2: number, sigma2: number): number {
  return Math.log(sigma2 / sigma1) + (sigma1 ** 2 + (mu1 - mu2) ** 2) / (2 * sigma2 ** 2) - 0.5;
}
const klInputs = () => [
  runtime.randn(),
  0.5 + runtime.random(),
  runtime.randn(),
  0.5 + runtime.random(),
];

function throwsCheck(fn: () => unknown, kind: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CheckError, `expected a CheckError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    assert.match(error.message, message);
    return true;
  });
}

test('a correct answer passes, also written differently and returned as a tensor', async () => {
  await runtime.init({ seed: 0, report: false });
  let calls = 0;
  const counted = (...args: [number, number, number, number]) => {
    calls++;
    return gaussianKl(...args);
  };
  check(counted, gaussianKl, { inputs: klInputs });
  assert.equal(calls, 20);
  const asTensor = (m1: number, s1: number, m2: number, s2: number) =>
    tf.scalar(
      0.5 * (2 * Math.log(s2) - 2 * Math.log(s1) + (s1 * s1 + (m1 - m2) ** 2) / (s2 * s2) - 1),
    );
  check(asTensor, gaussianKl, { inputs: klInputs, trials: 5, name: 'kl' });
  calls = 0;
  check(counted, gaussianKl, { inputs: klInputs, trials: 5 });
  assert.equal(calls, 5);
});

test('the stub is reported as not implemented yet', () => {
  assert.match(
    notImplemented('01-gaussian-kl').message,
    /^not implemented yet: 01-gaussian-kl; write your solution in place of this line$/,
  );
  function stub(): number {
    throw notImplemented('01-gaussian-kl');
  }
  throwsCheck(
    () => check(stub, gaussianKl, { inputs: klInputs }),
    'not-implemented',
    /^stub: not implemented yet/,
  );
  assert.throws(() => notImplemented(''), /exercise must be a non-empty string/);
});

test('a wrong value names the input (with parameter names), expected and got', async () => {
  await runtime.init({ seed: 1, report: false });
  // Forgets the mean term: right only when mu1 = mu2.
  function forgetful(mu1: number, sigma1: number, mu2: number, sigma2: number): number {
    return Math.log(sigma2 / sigma1) + sigma1 ** 2 / (2 * sigma2 ** 2) - 0.5 + 0 * (mu1 + mu2);
  }
  throwsCheck(
    () => check(forgetful, gaussianKl, { inputs: klInputs }),
    'value',
    /^forgetful: wrong value: expected -?[\d.e-]+, got -?[\d.e-]+ \(error .*\) on input \(mu1=-?[\d.e-]+, sigma1=[\d.e-]+, mu2=-?[\d.e-]+, sigma2=[\d.e-]+\)$/,
  );
});

test('the reported expected and got values are the real ones', () => {
  const inputs = () => [2];
  try {
    check(
      (x: number) => x * 3,
      (x: number) => x * 2,
      { inputs },
    );
    assert.fail('check passed a wrong answer');
  } catch (error) {
    assert.match((error as Error).message, /expected 4, got 6 .* on input \(x=2\)$/);
  }
});

test('wrong shape says expected vs got, for arrays and tensors', () => {
  const inputs = () => [tf.randomNormal([3, 2], 0, 1, 'float32', runtime.nextSeed())];
  const rowSums = (x: tf.Tensor) => tf.sum(x, 1);
  throwsCheck(
    () => check((x: tf.Tensor) => tf.sum(x, 0), rowSums, { inputs }),
    'shape',
    /wrong shape: expected \[3\], got \[2\] on input \(x=tensor float32 \[3, 2\]/,
  );
  throwsCheck(
    () => check((x: tf.Tensor) => tf.sum(x, 1, true), rowSums, { inputs }),
    'shape',
    /expected \[3\], got \[3, 1\]/,
  );
  // Plain arrays are compared by shape and values too.
  check((x: tf.Tensor) => Array.from(tf.sum(x, 1).dataSync()), rowSums, { inputs });
  throwsCheck(
    () =>
      check(
        () => [1, 2],
        () => [[1, 2]],
        { inputs: () => [] },
      ),
    'shape',
    /expected \[1, 2\], got \[2\]/,
  );
});

test('a scalar and a one-entry vector count as the same shape', () => {
  check(
    () => tf.tensor1d([1.5]),
    () => 1.5,
    { inputs: () => [] },
  );
  check(
    () => 1.5,
    () => [1.5],
    { inputs: () => [] },
  );
});

test('NaN and Infinity are reported at their index', () => {
  const inputs = () => [tf.tensor1d([1, 2, 3, 4])];
  throwsCheck(
    () =>
      check(
        (x: tf.Tensor) => tf.log(tf.sub(x, 2)),
        (x: tf.Tensor) => tf.log(x),
        { inputs },
      ),
    'nonfinite',
    /got NaN at index \[0\] where the reference gives 0 on input/,
  );
  throwsCheck(
    () =>
      check(
        () => Infinity,
        () => 1,
        { inputs: () => [] },
      ),
    'nonfinite',
    /got Infinity where the reference gives 1/,
  );
  // Matching NaN and matching infinities are agreement.
  check(
    () => [NaN, -Infinity, 1],
    () => [NaN, -Infinity, 1],
    { inputs: () => [] },
  );
});

test('a thrown error is named with its message and the input', () => {
  const broken = (x: number) => {
    if (x > -100) throw new RangeError('boom');
    return x;
  };
  throwsCheck(
    () => check(broken, (x: number) => x, { inputs: () => [0.25] }),
    'threw',
    /^broken threw RangeError: boom on input \(x=0.25\)$/,
  );
});

test('wrong types: undefined, a Promise, a string, a tuple instead of a tensor', () => {
  const reference = (x: number) => x;
  throwsCheck(
    () => check((_x: number) => undefined, reference, { inputs: () => [1], name: 'f' }),
    'type',
    /f: wrong type: expected a number, got undefined \(did you forget to `return`/,
  );
  throwsCheck(
    () => check(async (x: number) => x, reference, { inputs: () => [1], name: 'f' }),
    'type',
    /got a Promise \(remove `async`/,
  );
  throwsCheck(
    () => check((x: number) => `${x}`, reference, { inputs: () => [1], name: 'f' }),
    'type',
    /got a string/,
  );
  throwsCheck(
    () =>
      check((x: number) => [tf.scalar(x), tf.scalar(x)], reference, {
        inputs: () => [1],
        name: 'f',
      }),
    'type',
    /expected a number, got a list of 2 values/,
  );
});

test('lists and objects of tensors are compared element by element', () => {
  const reference = (x: tf.Tensor) => ({ mean: tf.mean(x), std: tf.sqrt(tf.moments(x).variance) });
  const inputs = () => [tf.randomNormal([10], 0, 1, 'float32', runtime.nextSeed())];
  check((x: tf.Tensor) => ({ std: tf.sqrt(tf.moments(x).variance), mean: tf.mean(x) }), reference, {
    inputs,
  });
  throwsCheck(
    () => check((x: tf.Tensor) => ({ mean: tf.mean(x) }), reference, { inputs }),
    'type',
    /the result has no field 'std'/,
  );
  throwsCheck(
    () =>
      check((x: tf.Tensor) => ({ mean: tf.mean(x), std: tf.moments(x).variance }), reference, {
        inputs,
      }),
    'value',
    /field 'std': wrong value/,
  );
  const pair = (x: tf.Tensor) => [tf.max(x), tf.min(x)];
  throwsCheck(
    () => check((x: tf.Tensor) => [tf.max(x), tf.max(x)], pair, { inputs }),
    'value',
    /element 1: wrong value/,
  );
});

test('float32 results get float32 tolerances unless the test sets its own', () => {
  // (1 + 1e-5) vs 1: inside the float32 default rtol 1e-4, outside the float64 default 1e-6.
  check(
    () => tf.scalar(1 + 1e-5),
    () => 1,
    { inputs: () => [] },
  );
  throwsCheck(
    () =>
      check(
        () => 1 + 1e-5,
        () => 1,
        { inputs: () => [] },
      ),
    'value',
    /tolerance atol 1e-8 \+ rtol 0.000001/,
  );
  throwsCheck(
    () =>
      check(
        () => tf.scalar(1 + 1e-5),
        () => 1,
        { inputs: () => [], rtol: 1e-6 },
      ),
    'value',
    /wrong value/,
  );
  check(
    () => 1.05,
    () => 1,
    { inputs: () => [], rtol: 0.1 },
  );
  check(
    () => 1e-7,
    () => 0,
    { inputs: () => [], atol: 1e-6 },
  );
});

test('tensors created by the inputs, the reference and the student are disposed, also on failure', () => {
  const inputs = () => [tf.randomNormal([4, 3], 0, 1, 'float32', runtime.nextSeed())];
  const before = tf.memory().numTensors;
  check(
    (x: tf.Tensor) => tf.relu(x),
    (x: tf.Tensor) => tf.maximum(x, 0),
    { inputs },
  );
  assert.equal(tf.memory().numTensors, before);
  assert.throws(
    () =>
      check(
        (x: tf.Tensor) => tf.abs(x),
        (x: tf.Tensor) => tf.maximum(x, 0),
        { inputs },
      ),
    CheckError,
  );
  assert.throws(
    () =>
      check(
        () => {
          throw new Error('x');
        },
        (x: tf.Tensor) => tf.exp(x),
        { inputs },
      ),
    CheckError,
  );
  assert.equal(tf.memory().numTensors, before);
  // A tensor the test made outside check stays alive.
  const kept = tf.ones([2]);
  check(
    (x: tf.Tensor) => tf.add(x, 1),
    (x: tf.Tensor) => tf.add(x, tf.onesLike(x)),
    { inputs: () => [kept] },
  );
  assert.equal(kept.isDisposed, false);
  kept.dispose();
});

test("a broken test is reported as the test's problem, not the answer's", () => {
  throwsCheck(
    () =>
      check(
        (x: number) => x,
        () => {
          throw new Error('bad ref');
        },
        { inputs: () => [1] },
      ),
    'test',
    /the reference threw Error: bad ref on input \(x=1\) \(a problem with the test/,
  );
  throwsCheck(
    () =>
      check(
        (x: number) => x,
        (x: number) => x,
        {
          inputs: () => {
            throw new Error('gen');
          },
        },
      ),
    'test',
    /input generator threw Error: gen/,
  );
});

test('invalid arguments to check and checkClose throw clear errors', () => {
  throwsCheck(
    () => check(undefined, Math.exp, { inputs: () => [1] }),
    'type',
    /the function to check is undefined; run the exercise cell/,
  );
  assert.throws(
    () => check(Math.exp, 3, { inputs: () => [1] }),
    /reference must be a function, got a number/,
  );
  assert.throws(() => check(Math.exp, Math.exp, {} as never), /options.inputs must be a function/);
  assert.throws(
    () => check(Math.exp, Math.exp, { inputs: () => 1 as never }),
    /must return an array of arguments, got a number/,
  );
  assert.throws(
    () => check(Math.exp, Math.exp, { inputs: () => [1], trials: 0 }),
    /trials must be a positive integer, got 0/,
  );
  assert.throws(
    () => check(Math.exp, Math.exp, { inputs: () => [1], rtol: -1 }),
    /rtol must be a finite number >= 0, got -1/,
  );
  assert.throws(
    () => checkClose(1, 'one'),
    /checkClose: the expected value must be a number, array or tensor, got a string/,
  );
  assert.throws(
    () => checkClose(1, 1, { atol: NaN }),
    /atol must be a finite number >= 0, got NaN/,
  );
});

test('checkClose names what it compares and the first wrong entry', () => {
  checkClose(
    tf.tensor2d([
      [1, 2],
      [3, 4],
    ]),
    [
      [1, 2],
      [3, 4],
    ],
    { what: 'mean' },
  );
  checkClose(Float32Array.from([0.1, 0.2]), [0.1, 0.2]);
  throwsCheck(
    () =>
      checkClose(
        [
          [1, 2],
          [3, 5],
        ],
        [
          [1, 2],
          [3, 4],
        ],
        { what: 'covariance' },
      ),
    'value',
    /^covariance: wrong value at index \[1, 1\]: expected 4, got 5 .*\(1 of 4 entries differ\)$/,
  );
  throwsCheck(
    () => checkClose(tf.zeros([2, 2]), tf.zeros([4]), { what: 'z' }),
    'shape',
    /^z: wrong shape: expected \[4\], got \[2, 2\]$/,
  );
  throwsCheck(
    () => checkClose(undefined, 1, { what: 'elbo' }),
    'type',
    /^elbo: wrong type: expected a number, got undefined$/,
  );
  throwsCheck(
    () => checkClose(NaN, 1.5, { what: 'loss' }),
    'nonfinite',
    /^loss: got NaN where the reference gives 1.5$/,
  );
  throwsCheck(
    () => checkClose(1.01, 1, { rtol: 1e-3, what: 'x' }),
    'value',
    /x: wrong value: expected 1, got 1.01/,
  );
});

test('values are shown compactly', () => {
  assert.equal(grading.formatValue(0.123456789), '0.123457');
  assert.equal(grading.formatValue([1, 2, 3, 4, 5, 6]), '[1, 2, 3, 4, ...]');
  const t = tf.tensor2d([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.equal(grading.formatValue(t), 'tensor float32 [2, 3] [[1, 2, ...], [4, 5, ...]]');
  t.dispose();
});

test('checkRange: a number inside the range passes; outside it, NaN or not a number fails', () => {
  grading.checkRange(0.004, { max: 0.01, what: 'distance' });
  grading.checkRange(tf.scalar(95), { min: 90, max: 100 });
  grading.checkRange([3], { min: 3 });
  throwsCheck(
    () => grading.checkRange(0.5, { max: 0.01, what: 'distance' }),
    'range',
    /^distance: got 0.5, expected a number at most 0.01$/,
  );
  throwsCheck(
    () => grading.checkRange(NaN, { min: 0, max: 1 }),
    'nonfinite',
    /^result: got NaN, expected a number between 0 and 1$/,
  );
  throwsCheck(
    () => grading.checkRange([1, 2], { min: 0 }),
    'type',
    /expected a number at least 0, got an array\/tensor of shape \[2\]/,
  );
  throwsCheck(() => grading.checkRange(undefined, { min: 0 }), 'type', /got undefined/);
  assert.throws(() => grading.checkRange(1, {}), /checkRange: give min, max or both/);
  assert.throws(() => grading.checkRange(1, { min: 2, max: 1 }), /min 2 is above max 1/);
  assert.throws(() => grading.checkRange(1, { min: NaN }), /min must be a finite number, got NaN/);
});

test('checkAnswer: words ignoring case and spacing, numbers within tolerance, never showing the answer', () => {
  grading.checkAnswer('  B ', 'b', { choices: ['a', 'b', 'c'] });
  grading.checkAnswer('two  modes', 'Two modes');
  grading.checkAnswer(3.0000001, 3, { rtol: 1e-6 });
  throwsCheck(
    () => grading.checkAnswer('a', 'b', { choices: ['a', 'b', 'c'] }),
    'answer',
    /^answer: "a" is not the right answer$/,
  );
  throwsCheck(
    () => grading.checkAnswer('e', 'b', { choices: ['a', 'b', 'c'], what: 'question 2' }),
    'answer',
    /^question 2: "e" is not one of the choices a, b, c$/,
  );
  throwsCheck(() => grading.checkAnswer(4, 3), 'answer', /^answer: 4 is not the right answer$/);
  throwsCheck(
    () => grading.checkAnswer(2, 'b'),
    'type',
    /expected an answer in words \(a string\), got a number/,
  );
  throwsCheck(() => grading.checkAnswer('3', 3), 'type', /expected a number, got a string/);
  assert.throws(
    () => grading.checkAnswer('a', 'd', { choices: ['a', 'b'] }),
    /the expected answer 'd' is not one of the choices/,
  );
  assert.throws(
    () => grading.checkAnswer('a', 'a', { choices: ['a'] }),
    /choices must be a list of at least two strings/,
  );
  assert.throws(() => grading.checkAnswer(1, NaN), /the expected answer must be finite/);
  assert.throws(
    () => grading.checkAnswer(1, 1, { choices: ['a', 'b'] }),
    /choices are for answers in words/,
  );
});

test('outside a grading run, the rewritten test calls check as usual and record nothing', () => {
  const site = grading.session.site('99-x', 0);
  site.check(
    (x: number) => x * 2,
    (x: number) => 2 * x,
    { inputs: () => [runtime.randn()] },
  );
  throwsCheck(() => site.checkClose(1, 2), 'value', /wrong value/);
  assert.throws(
    () => grading.session.report('99-x', 0, () => 1),
    /works only when the grader runs/,
  );
});
