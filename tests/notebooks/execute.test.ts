/**
 * Every notebook runs top to bottom through Jupyter with the project's tslab kernel, in quick mode,
 * and its exported HTML page is self-contained and shows every figure.
 */
import { describe, test } from 'node:test';
import * as os from 'os';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  BUILD_DIR,
  executeNotebook,
  exportHtml,
  listNotebooks,
  readNotebook,
} from '../../scripts/jupyter';

const outDir = path.join(BUILD_DIR, 'test-notebooks');

// Each notebook computes on one thread, so two run at a time on a machine with two cores.
describe('notebooks in quick mode', { concurrency: Math.min(2, os.cpus().length) }, () => {
  for (const file of listNotebooks()) {
    const name = path.basename(file);
    test(`${name} runs top to bottom in quick mode`, async () => {
      const result = await executeNotebook(file, {
        outDir,
        cellTimeout: 600,
        env: { GENLAB_QUICK: '1' },
      });
      assert.ok(result.ok, `${name} failed:\n${result.error}`);
      const executed = readNotebook(result.output as string);
      const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
      assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0);
      const figures = outputs.filter(
        (o) =>
          (o.metadata as { genlab?: { kind?: string } } | undefined)?.genlab?.kind === 'figure',
      );
      const html = fs.readFileSync(exportHtml(result.output as string), 'utf8');
      assert.doesNotMatch(
        html,
        /<script[^>]*\ssrc=["']https?:/i,
        'the HTML loads no script from the network',
      );
      assert.equal(
        (html.match(/class="genlab-figure"/g) ?? []).length,
        figures.length,
        'every figure is in the HTML page',
      );
      if (figures.length > 0)
        assert.match(html, /plotly\.js v\d/, 'plotly.js is inline in the page');
    });
  }
});
