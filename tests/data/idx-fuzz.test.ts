import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { FuzzReport } from './idx-fuzz-child';

const SEED = 2021;
const TRIALS = 1200;

function run(mode: 'corrupt' | 'valid'): FuzzReport {
  const child = spawnSync(
    process.execPath,
    [path.join(__dirname, 'idx-fuzz-child.js'), mode, String(SEED), String(TRIALS)],
    // A hang (a FIFO opened for reading, an endless device) would end here, not in the test runner.
    { encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 24 },
  );
  assert.equal(child.status, 0, `the fuzz child failed: ${child.error ?? ''}${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as FuzzReport;
}

test(
  `fuzzing loadMnist with ${TRIALS} corrupted IDX files (seed ${SEED}): every one refused with ` +
    'an error naming the file, in bounded memory',
  () => {
    const fuzz = run('corrupt');
    const baseline = run('valid');
    assert.equal(fuzz.trials, TRIALS);
    assert.deepEqual(fuzz.accepted, [], 'corrupted files were accepted silently');
    assert.deepEqual(fuzz.unclear, [], 'errors that do not name the file');
    assert.equal(fuzz.refusedNamingFile, TRIALS);
    // Every kind of corruption was drawn (18 kinds, 12 of them also gzip-compressed).
    assert.ok(Object.keys(fuzz.examples).length >= 25, Object.keys(fuzz.examples).join('; '));
    // Peak memory: the same as loading the intact files as often, up to a few copies of the
    // largest intact file (the 1 GiB gzip bombs among the trials inflate no further than their
    // header allows). The corrupting run also holds its corrupted and compressed copies, and the
    // garbage collector runs at other moments in the two runs, so the peaks differ by a few MB of
    // heap growth (measured: 5 copies, and 15 in a CI run on a loaded machine); 40 copies leave
    // room for that noise, and a bomb would take 2,700.
    const extra = fuzz.maxRss - baseline.maxRss;
    assert.ok(
      extra <= 40 * fuzz.largestValidFile,
      `peak memory ${fuzz.maxRss} bytes, ${extra} above loading intact files ` +
        `(largest file ${fuzz.largestValidFile} bytes)`,
    );
  },
);
