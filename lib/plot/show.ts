/**
 * Showing figures, image grids and tables in a notebook. A figure goes out as plotly JSON (the MIME
 * type `application/vnd.plotly.v1+json`, drawn by JupyterLab, VS Code and the classic Notebook with
 * the kit's extension, trusted or not); the kit's kernel adds a static PNG of it for every other
 * viewer (GitHub, nbviewer), and `npm run notebooks` exports pages that draw it with plotly.js
 * inline. No output carries plotly.js or a script. Every output carries its name in its metadata
 * (`genlab.name`) so that export tools can find it in an executed notebook.
 */
import { displayBundle, escapeHtml, inNotebook, LiveOutput, MimeBundle } from '../runtime/display';
import { Figure, PLOTLY_MIME } from './figure';
import { IMAGE_GRID_KEYS, ImageBatch, ImageGridOptions, imageGridPng } from './image';
import { checkOptions } from '../runtime/checks';

export interface ShowOptions {
  /** Name of the figure within its notebook, e.g. 'elbo-gap' (letters, digits, '-' and '_'). */
  name?: string;
}

function checkName(name: string | undefined): void {
  if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) {
    throw new Error(
      `figure name '${name}' must start with a letter or digit and contain only letters, digits, ` +
        `'-' and '_'`,
    );
  }
}

function checkFigure(fig: Figure): void {
  if (!fig || !Array.isArray(fig.data) || typeof fig.layout !== 'object') {
    throw new Error(
      'show: expected a plotly figure { data: [...], layout: {...} }; build one with the ' +
        'plot helpers',
    );
  }
}

/** The MIME bundle of a figure: the figure JSON and a one-line summary. */
export function figureBundle(fig: Figure, name?: string): MimeBundle {
  checkFigure(fig);
  return {
    [PLOTLY_MIME]: fig,
    'text/plain': `<figure${name ? ' ' + name : ''}: ${fig.data.length} trace(s)>`,
  };
}

function outputMetadata(name: string | undefined, kind: string): Record<string, unknown> {
  return { genlab: { kind, ...(name ? { name } : {}) } };
}

/** Shows a plotly figure in the notebook (or prints a one-line summary outside one). */
export function show(fig: Figure, options: ShowOptions = {}): void {
  checkOptions('show', options, { name: true });
  checkName(options.name);
  const bundle = figureBundle(fig, options.name);
  if (!displayBundle(bundle, outputMetadata(options.name, 'figure')))
    console.log(bundle['text/plain']);
}

/**
 * A figure that redraws in place, e.g. training curves that grow each epoch. Call `update(fig)`
 * with the new figure; the output keeps one place in the notebook.
 */
export class LiveFigure {
  private readonly output = new LiveOutput();
  constructor(private readonly name?: string) {
    checkName(name);
  }

  update(fig: Figure): void {
    this.output.update(figureBundle(fig, this.name), outputMetadata(this.name, 'figure'));
  }
}

export interface ShowImagesOptions extends ImageGridOptions, ShowOptions {
  /** A line of text under the grid. */
  caption?: string;
}

/** Shows a grid of grayscale images as a PNG. */
export function showImages(images: ImageBatch, options: ShowImagesOptions = {}): void {
  checkOptions('showImages', options, { ...IMAGE_GRID_KEYS, name: true, caption: true });
  checkName(options.name);
  const png = imageGridPng(images, options);
  const name = options.name ? ' ' + options.name : '';
  const caption = options.caption ? ': ' + options.caption : '';
  const text = `<image grid${name}${caption}>`;
  if (!inNotebook()) {
    console.log(text);
    return;
  }
  const bundle: MimeBundle = { 'image/png': png.toString('base64'), 'text/plain': text };
  displayBundle(bundle, outputMetadata(options.name, 'image'));
  if (options.caption)
    displayBundle({
      'text/html': `<p style="font-size:13px;color:#444">${escapeHtml(options.caption)}</p>`,
      'text/plain': options.caption,
    });
}

export type Row = Record<string, string | number | boolean | null | undefined>;

export interface TableOptions extends ShowOptions {
  /** Significant digits for numbers (default 4). */
  digits?: number;
  caption?: string;
}

function formatCell(v: Row[string], digits: number): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0)
      ? v.toExponential(digits - 1)
      : Number(v.toPrecision(digits)).toString();
  }
  return v === null || v === undefined ? '' : String(v);
}

/**
 * MIME type carrying a table's columns and raw rows as JSON (for CSV export; notebooks do not
 * render it).
 */
export const TABLE_MIME = 'application/vnd.genlab.table+json';

/** A danfojs DataFrame, or anything else with column names and rows of values. */
export interface DataFrameLike {
  columns: string[];
  values: unknown[][] | unknown[];
}

function isDataFrameLike(t: unknown): t is DataFrameLike {
  return (
    !!t &&
    !Array.isArray(t) &&
    Array.isArray((t as DataFrameLike).columns) &&
    Array.isArray((t as DataFrameLike).values)
  );
}

function cellValue(v: unknown): Row[string] {
  if (
    v === null ||
    v === undefined ||
    typeof v === 'number' ||
    typeof v === 'string' ||
    typeof v === 'boolean'
  )
    return v;
  return String(v);
}

/** Rows of records from an array of records or a DataFrame (danfojs `new dfd.DataFrame(...)`). */
export function tableRows(table: Row[] | DataFrameLike): Row[] {
  if (Array.isArray(table)) return table;
  if (!isDataFrameLike(table))
    throw new Error(
      'table: expected an array of row objects or a DataFrame (with columns and values)',
    );
  const { columns } = table;
  return (table.values as unknown[]).map((r) => {
    const values = Array.isArray(r) ? r : [r];
    return Object.fromEntries(columns.map((c, j) => [c, cellValue(values[j])]));
  });
}

/** Comma-separated values with a header line (RFC 4180 quoting), full precision. */
export function tableCsv(rows: Row[]): string {
  const columns = Array.from(new Set(rows.flatMap((r) => Object.keys(r))));
  const field = (v: Row[string]) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return (
    [columns.map(field), ...rows.map((r) => columns.map((c) => field(r[c])))]
      .map((l) => l.join(','))
      .join('\n') + '\n'
  );
}

/**
 * HTML and text renderings of rows of records (every string escaped), plus the raw rows as JSON.
 */
export function tableBundle(table: Row[] | DataFrameLike, options: TableOptions = {}): MimeBundle {
  const rows = tableRows(table);
  const digits = options.digits ?? 4;
  const columns = Array.from(new Set(rows.flatMap((r) => Object.keys(r))));
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c], digits)));
  const th = columns
    .map((c) => `<th style="text-align:right;padding:2px 10px">${escapeHtml(c)}</th>`)
    .join('');
  const body = cells
    .map(
      (r) =>
        `<tr>${r
          .map((v) => `<td style="text-align:right;padding:2px 10px">${escapeHtml(v)}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  const caption = options.caption
    ? `<caption style="caption-side:top;text-align:left">${escapeHtml(options.caption)}</caption>`
    : '';
  const html =
    `<table class="genlab-table" ` +
    `style="border-collapse:collapse;font-size:13px">${caption}` +
    `<thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const line = (vals: string[]) => vals.map((v, j) => v.padStart(widths[j])).join('  ');
  const text = [options.caption ?? '', line(columns), ...cells.map(line)]
    .filter((l) => l !== '')
    .join('\n');
  const json = {
    columns,
    rows: rows.map((r) =>
      columns.map((c) =>
        typeof r[c] === 'number' && !Number.isFinite(r[c]) ? String(r[c]) : (r[c] ?? null),
      ),
    ),
  };
  return { 'text/html': html, 'text/plain': text, [TABLE_MIME]: json };
}

/**
 * Shows a table (rows of records, e.g. a training history, or a danfojs DataFrame): HTML in a
 * notebook, aligned text elsewhere. Named tables are exported to CSV by `npm run figures`.
 */
export function showTable(table: Row[] | DataFrameLike, options: TableOptions = {}): void {
  checkOptions('showTable', options, { name: true, digits: true, caption: true });
  checkName(options.name);
  const rows = tableRows(table);
  if (rows.length === 0) throw new Error('showTable: no rows');
  const bundle = tableBundle(rows, options);
  if (!displayBundle(bundle, outputMetadata(options.name, 'table')))
    console.log(bundle['text/plain']);
}

/**
 * Shows Markdown (with LaTeX) rendered from values, for prose whose numbers come from the run:
 * `showMarkdown(\`The fit reaches ${nll.toFixed(1)} nats, ${gap} above the table.\`)`. Plain text
 * outside a notebook.
 */
export function showMarkdown(markdown: string): void {
  if (typeof markdown !== 'string' || markdown.trim() === '')
    throw new Error('showMarkdown: expected a non-empty Markdown string');
  if (!displayBundle({ 'text/markdown': markdown, 'text/plain': markdown })) console.log(markdown);
}
