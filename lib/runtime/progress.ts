import { checkInteger, checkOptions } from './checks';
import { LiveOutput, escapeHtml } from './display';

export type Metrics = Record<string, number>;

export interface ProgressOptions {
  /** What is being counted, e.g. 'epoch 3' or 'AIS'. */
  label?: string;
  /** Minimum milliseconds between two redraws in a notebook (default 500). */
  redrawMs?: number;
  /** Minimum milliseconds between two printed lines outside a notebook (default 5000). */
  printMs?: number;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

function formatMetrics(metrics: Metrics): string {
  return Object.entries(metrics)
    .map(([k, v]) => {
      const scientific = Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0);
      return `${k} ${scientific ? v.toExponential(2) : v.toFixed(3)}`;
    })
    .join('  ');
}

/**
 * Progress of a long loop. In a notebook it is one output that redraws itself in place; elsewhere
 * it prints a plain line now and then and one at the end.
 */
export class Progress {
  private readonly start = Date.now();
  private readonly output = new LiveOutput();
  private lastDraw = -Infinity;
  private lastPrint: number;
  private count = 0;
  private metrics: Metrics = {};
  private finished = false;
  private stopped = false;

  constructor(
    readonly total: number,
    private readonly options: ProgressOptions = {},
  ) {
    checkInteger('progress', 'total', total);
    checkOptions('progress', options, { label: true, redrawMs: true, printMs: true });
    this.lastPrint = this.start;
  }

  /** Advances by `steps` and records the latest metrics (shown next to the bar). */
  tick(metrics?: Metrics, steps = 1): void {
    this.count = Math.min(this.total, this.count + steps);
    if (metrics) this.metrics = { ...this.metrics, ...metrics };
    this.render(this.count === this.total);
  }

  /** Marks the loop finished (draws the final state once). */
  done(metrics?: Metrics): void {
    if (metrics) this.metrics = { ...this.metrics, ...metrics };
    if (!this.finished) this.render(true);
  }

  /** Marks the loop stopped early by an interrupt (draws the state it reached, marked so). */
  stop(): void {
    this.stopped = true;
    if (!this.finished) this.render(true);
  }

  /** One-line text of the current state. */
  text(): string {
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = this.count > 0 ? (elapsed * (this.total - this.count)) / this.count : NaN;
    const label = this.options.label ? `${this.options.label}: ` : '';
    const timing = this.stopped
      ? `${formatSeconds(elapsed)}, interrupted`
      : this.count === this.total
        ? `${formatSeconds(elapsed)}`
        : `${formatSeconds(elapsed)}, ~${formatSeconds(eta)} left`;
    const metrics = formatMetrics(this.metrics);
    return `${label}${this.count}/${this.total} (${timing})${metrics ? '  ' + metrics : ''}`;
  }

  private render(final: boolean): void {
    const now = Date.now();
    if (final) this.finished = true;
    if (!final && now - this.lastDraw < (this.options.redrawMs ?? 500)) return;
    this.lastDraw = now;
    const fraction = this.count / this.total;
    const html =
      `<div style="font-family:monospace;font-size:13px">` +
      `<progress value="${this.count}" max="${this.total}" ` +
      `style="width:240px;vertical-align:middle"></progress> ` +
      `${escapeHtml(this.text())}</div>`;
    if (this.output.update({ 'text/html': html, 'text/plain': this.text() })) return;
    if (final || now - this.lastPrint >= (this.options.printMs ?? 5000)) {
      this.lastPrint = now;
      console.log(`${(100 * fraction).toFixed(0).padStart(3)}% ${this.text()}`);
    }
  }
}

/** Starts a progress display over `total` steps. */
export function progress(total: number, options: ProgressOptions = {}): Progress {
  return new Progress(total, options);
}
