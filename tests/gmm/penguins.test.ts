import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { data } from 'genlab';

test('loadPenguins: 333 complete rows of the 344, with the published species counts', () => {
  const p = data.loadPenguins();
  assert.equal(p.rows.length, 333);
  assert.equal(p.dropped, 11);
  const count = (s: string) => p.rows.filter((r) => r.species === s).length;
  assert.deepEqual([count('Adelie'), count('Chinstrap'), count('Gentoo')], [146, 68, 119]);
  for (const r of p.rows) {
    assert.ok(Number.isFinite(r.beakLengthMm) && Number.isFinite(r.bodyMassG));
    assert.ok(r.sex === 'female' || r.sex === 'male');
  }
});

test('penguinMatrix: row-major values, standardized to mean 0 and unit variance on request', () => {
  const { rows } = data.loadPenguins();
  const raw = data.penguinMatrix(rows, ['flipperLengthMm', 'bodyMassG']);
  assert.equal(raw.values[0], rows[0].flipperLengthMm);
  assert.equal(raw.values[1], rows[0].bodyMassG);
  const z = data.penguinMatrix(rows, ['flipperLengthMm', 'bodyMassG'], { standardize: true });
  for (let j = 0; j < 2; j++) {
    const col = Array.from({ length: z.n }, (_, i) => z.values[2 * i + j]);
    const mean = col.reduce((s, v) => s + v, 0) / z.n;
    const variance = col.reduce((s, v) => s + (v - mean) ** 2, 0) / (z.n - 1);
    assert.ok(
      Math.abs(mean) < 1e-5 && Math.abs(variance - 1) < 1e-4,
      `column ${j}: mean ${mean}, variance ${variance}`,
    );
  }
});

test(
  'loadPenguins and penguinMatrix: clear errors for missing files, bad JSON, missing columns ' +
    'and bad features',
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'penguins-'));
    assert.throws(() => data.loadPenguins(path.join(dir, 'none.json')), /does not exist/);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    assert.throws(() => data.loadPenguins(path.join(dir, 'bad.json')), /is not valid JSON/);
    fs.writeFileSync(path.join(dir, 'cols.json'), JSON.stringify([{ Species: 'Adelie' }]));
    assert.throws(
      () => data.loadPenguins(path.join(dir, 'cols.json')),
      /lacks the column\(s\) Island, Sex, Beak Length \(mm\)/,
    );
    const { rows } = data.loadPenguins();
    assert.throws(
      () => data.penguinMatrix(rows, ['wingSpan' as data.PenguinFeature]),
      /features must be a non-empty list from beakLengthMm/,
    );
    assert.throws(
      () => data.penguinMatrix(rows.slice(0, 1), ['bodyMassG']),
      /need at least 2 rows, got 1/,
    );
    fs.rmSync(dir, { recursive: true });
  },
);
