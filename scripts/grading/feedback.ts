/**
 * The feedback page of a submission (nbgrader's feedback is the model): one self-contained HTML
 * file with the score, a table of every test's outcome and reason, and the notebook as the grader
 * ran it, each test cell replaced by its verdict. Everything that comes from the student's run is
 * shown as text (escaped) or as a PNG/JPEG image; nothing of it can run: the page allows no
 * scripts at all (Content-Security-Policy), so it is safe to open for students and instructors.
 */
import { Notebook, NotebookCell, cellSource } from '../jupyter';
import { claimedTestId } from './format';
import { ScoreRow } from './results';

const MAX_TEXT = 20_000;
const MAX_IMAGE = 3 * 2 ** 20;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** ANSI colour codes (ESC [ ... letter) and other control characters except tab and newline. */
const CONTROL = new RegExp(
  ['\\u001b\\[[0-9;]*[A-Za-z]', '[\\u0000-\\u0008\\u000b-\\u001f\\u007f]'].join('|'),
  'g',
);

/** Untrusted text made printable and cut to `max` characters, with a note of what was cut. */
export function plainText(value: unknown, max = MAX_TEXT): string {
  const text = (Array.isArray(value) ? value.join('') : String(value ?? '')).replace(CONTROL, '');
  return text.length > max
    ? `${text.slice(0, max)}\n[... ${text.length - max} more characters not shown]`
    : text;
}

function pre(cls: string, text: unknown): string {
  return `<pre class="${cls}">${escapeHtml(plainText(text))}</pre>`;
}

function image(mime: string, data: unknown): string | null {
  const b64 = (Array.isArray(data) ? data.join('') : String(data ?? '')).replace(/\s+/g, '');
  if (b64.length > MAX_IMAGE || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  return `<img alt="figure" src="data:${mime};base64,${b64}">`;
}

function renderOutput(output: Record<string, unknown>): string {
  const type = output.output_type;
  if (type === 'stream')
    return pre(output.name === 'stderr' ? 'stream stderr' : 'stream', output.text);
  if (type === 'error')
    return pre('error', `${plainText(output.ename, 200)}: ${plainText(output.evalue)}`);
  if (type === 'execute_result' || type === 'display_data') {
    const data = (output.data ?? {}) as Record<string, unknown>;
    for (const mime of ['image/png', 'image/jpeg']) {
      const img = mime in data ? image(mime, data[mime]) : null;
      if (img) return img;
    }
    if ('text/plain' in data && Object.keys(data).length === 1)
      return pre('result', data['text/plain']);
    return '<p class="note">[a figure or table: open the executed notebook to see it]</p>';
  }
  return '';
}

function verdictBox(row: ScoreRow | undefined, hidden: boolean, id: string): string {
  if (!row) return `<div class="verdict">Test ${escapeHtml(id)}: not graded</div>`;
  const passed = row.points === row.max_points;
  const cls = passed ? 'verdict passed' : 'verdict failed';
  const label = hidden ? 'Hidden test' : 'Test';
  return (
    `<div class="${cls}"><b>${label} ${escapeHtml(row.test)}</b> (${escapeHtml(row.kind)}): ` +
    `${row.points} / ${row.max_points} point${row.max_points === 1 ? '' : 's'}` +
    `<br>${escapeHtml(plainText(row.reason, 2000))}</div>`
  );
}

export interface FeedbackInput {
  submission: string;
  assignment: string | null;
  rows: ScoreRow[];
  /** The notebook the grader sent into the sandbox (trusted structure). */
  ran: Notebook | null;
  /** The executed copy that came back (untrusted: only its outputs are shown, as text). */
  executed: Notebook | null;
  hiddenTests: Set<string>;
}

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222;
  padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #ccc; padding: .3rem .5rem; vertical-align: top; text-align: left; }
tr.passed td.points { color: #176f2c; } tr.failed td.points { color: #a4161a; font-weight: bold; }
pre { white-space: pre-wrap; word-break: break-word; margin: .3rem 0; padding: .4rem .6rem;
  border-radius: 4px; }
pre.code { background: #f5f5f7; border-left: 3px solid #8a8fa3; }
pre.stream, pre.result { background: #fff; border: 1px solid #eee; }
pre.stderr, pre.error { background: #fff3f3; color: #8a1111; border: 1px solid #f0caca; }
div.markdown { white-space: pre-wrap; margin: .6rem 0; }
div.verdict { margin: .6rem 0; padding: .5rem .7rem; border-radius: 4px; }
div.passed { background: #e9f7ec; border: 1px solid #9fd5ab; }
div.failed { background: #fdecec; border: 1px solid #eba5a5; }
p.note { color: #666; font-style: italic; } img { max-width: 100%; }
`;

/** No scripts, no fetches: only inline styles and images in data: URLs. */
const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/** The feedback page of one submission. */
export function feedbackPage(input: FeedbackInput): string {
  const points = input.rows.reduce((s, r) => s + r.points, 0);
  const max = input.rows.reduce((s, r) => s + r.max_points, 0);
  const byTest = new Map(input.rows.map((r) => [r.test, r]));
  const title = `${input.assignment ?? 'Submission'}: ${points} / ${max} points`;
  const summary = input.rows
    .map(
      (r) =>
        `<tr class="${r.points === r.max_points ? 'passed' : 'failed'}"><td>${escapeHtml(r.test)}` +
        `${input.hiddenTests.has(r.test) ? ' (hidden)' : ''}</td><td>${escapeHtml(r.kind)}</td>` +
        `<td class="points">${r.points} / ${r.max_points}</td>` +
        `<td>${escapeHtml(plainText(r.reason, 2000))}</td></tr>`,
    )
    .join('\n');
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(input.submission)}</p>`,
    '<table><tr><th>test</th><th>exercise</th><th>points</th><th>outcome</th></tr>',
    summary,
    '</table>',
  ];
  if (input.ran) {
    parts.push('<h2>Your notebook as the grader ran it</h2>');
    const executed = input.executed;
    const aligned =
      executed !== null &&
      Array.isArray(executed.cells) &&
      executed.cells.length === input.ran.cells.length &&
      executed.cells.every((c, i) => c?.id === input.ran?.cells[i].id);
    if (!aligned)
      parts.push(
        '<p class="note">The outputs of the run could not be matched to its cells; they are not ' +
          'shown.</p>',
      );
    input.ran.cells.forEach((cell: NotebookCell, i) => {
      const test = claimedTestId(cell);
      const isTest = (cell.metadata.genlab as { test?: unknown } | undefined)?.test !== undefined;
      if (isTest && test) {
        parts.push(verdictBox(byTest.get(test), input.hiddenTests.has(test), test));
        return;
      }
      if (cell.cell_type === 'markdown') {
        parts.push(`<div class="markdown">${escapeHtml(plainText(cellSource(cell)))}</div>`);
        return;
      }
      if (cell.cell_type !== 'code') return;
      parts.push(pre('code', cellSource(cell)));
      const outputs = aligned ? (executed.cells[i].outputs ?? []) : [];
      for (const output of Array.isArray(outputs) ? outputs : [])
        if (output && typeof output === 'object') parts.push(renderOutput(output));
    });
  }
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}
