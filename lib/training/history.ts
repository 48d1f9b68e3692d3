/**
 * Per-epoch (or per-step) metrics of a training run: a table of rows, shown as a danfojs DataFrame
 * or an HTML table, and as curves that redraw in place while training runs.
 */
import type { DataFrame } from 'danfojs-node';
import { Figure, lines, PALETTE, Series } from '../plot/figure';
import { checkArray, checkOptions } from '../runtime/checks';
import { LiveFigure, Row, showTable } from '../plot/show';

export type HistoryRow = Record<string, number>;

/**
 * History rows read back from JSON (a saved model's config.json): a list of objects of numbers,
 * where null stands for NaN (JSON has no NaN). Throws naming the first bad row.
 */
export function historyRowsFromJson(who: string, name: string, value: unknown): HistoryRow[] {
  const isRow = (row: unknown) =>
    typeof row === 'object' &&
    row !== null &&
    !Array.isArray(row) &&
    Object.values(row).every((v) => v === null || typeof v === 'number');
  checkArray(who, name, value, isRow, 'an object of numbers (a history row)');
  return (value as Record<string, number | null>[]).map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v ?? NaN])),
  );
}

export class History {
  readonly rows: HistoryRow[] = [];

  /** Appends one row (e.g. { epoch: 3, 'train loss': 110.2, 'test loss': 108.9 }). */
  push(row: HistoryRow): void {
    for (const [k, v] of Object.entries(row)) {
      if (typeof v !== 'number')
        throw new Error(`history: metric '${k}' must be a number, got ${typeof v}`);
    }
    this.rows.push(row);
  }

  /** Forgets every row (a figure drawn from this history shows them until the next push). */
  clear(): void {
    this.rows.length = 0;
  }

  /** The values of one column, in order (NaN where a row lacks it). */
  column(name: string): number[] {
    return this.rows.map((r) => (name in r ? r[name] : NaN));
  }

  get columns(): string[] {
    return Array.from(new Set(this.rows.flatMap((r) => Object.keys(r))));
  }

  get last(): HistoryRow | undefined {
    return this.rows[this.rows.length - 1];
  }

  /** A danfojs DataFrame of the rows (danfojs loads on first use: it is large). */
  toDataFrame(): DataFrame {
    const dfd = require('danfojs-node') as {
      DataFrame: new (rows: number[][], options: { columns: string[] }) => DataFrame;
    };
    const cols = this.columns;
    return new dfd.DataFrame(
      this.rows.map((r) => cols.map((c) => (c in r ? r[c] : NaN))),
      { columns: cols },
    );
  }

  /** CSV text of the rows. */
  toCsv(): string {
    const cols = this.columns;
    return (
      [
        cols.join(','),
        ...this.rows.map((r) => cols.map((c) => (c in r ? String(r[c]) : '')).join(',')),
      ].join('\n') + '\n'
    );
  }

  /** Curves of `metrics` against column `x`. */
  figure(
    x: string,
    metrics: string[],
    options: { title?: string; xTitle?: string; yTitle?: string; logY?: boolean } = {},
  ): Figure {
    checkOptions('History.figure', options, {
      title: true,
      xTitle: true,
      yTitle: true,
      logY: true,
    });
    const xs = this.column(x);
    const series: Series[] = metrics.map((m, i) => ({
      name: m,
      x: xs,
      y: this.column(m),
      mode: xs.length < 30 ? 'lines+markers' : 'lines',
      color: PALETTE[i % PALETTE.length],
    }));
    return lines(series, {
      xTitle: options.xTitle ?? x,
      yTitle: options.yTitle,
      title: options.title,
      logY: options.logY,
      showLegend: true,
    });
  }

  /** Shows the rows as a table. */
  show(options: { name?: string; caption?: string; digits?: number } = {}): void {
    checkOptions('History.show', options, { name: true, caption: true, digits: true });
    showTable(this.rows as Row[], options);
  }
}

/** Training curves that redraw in place after each `push`. */
export class LiveHistory extends History {
  private readonly live: LiveFigure;

  constructor(
    private readonly x: string,
    private readonly metrics: string[],
    private readonly options: {
      name?: string;
      title?: string;
      yTitle?: string;
      logY?: boolean;
    } = {},
  ) {
    super();
    checkOptions('LiveHistory', options, { name: true, title: true, yTitle: true, logY: true });
    this.live = new LiveFigure(options.name);
  }

  override push(row: HistoryRow): void {
    super.push(row);
    const { title, yTitle, logY } = this.options;
    this.live.update(this.figure(this.x, this.metrics, { title, yTitle, logY }));
  }
}
