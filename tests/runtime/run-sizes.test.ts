import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plot, runtime } from 'genlab';

const SIZES = {
  trainImages: { full: 60000, quick: 2000, what: 'training images' },
  epochs: { full: 10, quick: 2, what: 'VAE epochs' },
  latent: { full: 20, quick: 20, what: 'latent dimensions' },
};

function withQuick<T>(value: string | undefined, run: () => T): T {
  const saved = process.env[runtime.QUICK_ENV];
  if (value === undefined) delete process.env[runtime.QUICK_ENV];
  else process.env[runtime.QUICK_ENV] = value;
  try {
    return run();
  } finally {
    if (saved === undefined) delete process.env[runtime.QUICK_ENV];
    else process.env[runtime.QUICK_ENV] = saved;
  }
}

function silently<T>(run: () => T): { value: T; printed: string } {
  const log = console.log;
  let printed = '';
  console.log = (text: string) => (printed += text + '\n');
  try {
    return { value: run(), printed };
  } finally {
    console.log = log;
  }
}

test('runSizes returns the quick values in quick mode and says what it reduced', () => {
  const { value, printed } = withQuick('1', () => silently(() => runtime.runSizes(SIZES)));
  assert.deepEqual(value, { trainImages: 2000, epochs: 2, latent: 20 });
  assert.match(printed, /Quick mode/);
  assert.match(printed, /training images 2,000 instead of 60,000; VAE epochs 2 instead of 10\./);
  assert.doesNotMatch(printed, /latent dimensions/, 'a size quick mode keeps is not listed');
});

test('runSizes returns the full values at full size and names them', () => {
  const { value, printed } = withQuick(undefined, () => silently(() => runtime.runSizes(SIZES)));
  assert.deepEqual(value, { trainImages: 60000, epochs: 10, latent: 20 });
  assert.match(printed, /^\*\*Full size\*\*: training images 60,000; VAE epochs 10; latent/);
  assert.doesNotMatch(printed, /Quick mode\*\*/);
});

test('runSizes refuses sizes it cannot announce, naming the size', () => {
  const bad: [unknown, RegExp][] = [
    [{}, /one size or more/],
    [{ epochs: [10, 2] }, /'epochs' must be \{ full, quick, what \}/],
    [{ epochs: { full: 10, quick: 2 } }, /'epochs': what must say/],
    [{ epochs: { full: 10, qiuck: 2, what: 'epochs' } }, /unknown field\(s\) qiuck/],
    [{ epochs: { full: NaN, quick: 2, what: 'epochs' } }, /'epochs': full must be a number/],
    [{ epochs: { full: 10, quick: -1, what: 'epochs' } }, /'epochs': quick must be a number ≥ 0/],
  ];
  for (const [sizes, message] of bad)
    assert.throws(() => runtime.runSizes(sizes as Record<string, runtime.RunSize>), message);
});

test('showMarkdown prints Markdown outside a notebook and refuses an empty string', () => {
  const { printed } = silently(() => plot.showMarkdown('The fit reaches **95.2** nats.'));
  assert.equal(printed, 'The fit reaches **95.2** nats.\n');
  assert.throws(() => plot.showMarkdown(''), /non-empty Markdown/);
});
