/** Figures and tables of notebook 07 (Boltzmann machines): learning curves, AIS checks, stages. */
import { Figure, levelSeries, lines, PALETTE } from '../../plot/figure';
import { checkOptions } from '../../runtime/checks';
import { DbmEpochRow } from './dbm-train';
import { RbmEpochRow } from './train';

/** One evaluation of the two fully visible students against their teacher (nats). */
export interface FvbmLearningRow {
  step: number;
  /** Average log-likelihood of the data under the exact-gradient and the Gibbs student. */
  exactLL: number;
  gibbsLL: number;
  /** KL(teacher ‖ student) of each student. */
  exactKl: number;
  gibbsKl: number;
}

function checkFvbmRows(who: string, rows: FvbmLearningRow[]): number[] {
  if (rows.length === 0) throw new Error(`${who}: no rows to plot; evaluate the students first`);
  rows.forEach((r, i) => {
    for (const key of ['step', 'exactLL', 'gibbsLL', 'exactKl', 'gibbsKl'] as const)
      if (!Number.isFinite(r[key]))
        throw new Error(`${who}: rows[${i}].${key} must be a finite number, got ${r[key]}`);
  });
  return rows.map((r) => r.step);
}

/**
 * Average log-likelihood of the exact-gradient and the Gibbs-gradient student per step, with the
 * teacher's as a dashed line.
 */
export function fvbmLearningFigure(
  rows: FvbmLearningRow[],
  options: { units: number; chains: number; teacherLogLikelihood: number },
): Figure {
  checkOptions('fvbmLearningFigure', options, {
    units: true,
    chains: true,
    teacherLogLikelihood: true,
  });
  const steps = checkFvbmRows('fvbmLearningFigure', rows);
  const teacher = options.teacherLogLikelihood;
  if (!Number.isFinite(teacher))
    throw new Error(`fvbmLearningFigure: teacherLogLikelihood must be finite, got ${teacher}`);
  return lines(
    [
      { name: 'exact gradient', x: steps, y: rows.map((r) => r.exactLL), color: PALETTE[0] },
      {
        name: `Gibbs gradient (${options.chains} persistent chains)`,
        x: steps,
        y: rows.map((r) => r.gibbsLL),
        color: PALETTE[1],
      },
      levelSeries('teacher', [steps[0], steps[steps.length - 1]], teacher, {
        dash: 'dash',
        color: PALETTE[7],
      }),
    ],
    {
      title: `Fully visible BM (d = ${options.units}): learning with exact and sampled gradients`,
      xTitle: 'gradient step',
      yTitle: 'average log-likelihood (nats)',
    },
  );
}

/** KL(teacher ‖ student) of both students per step, on a log scale. */
export function fvbmKlFigure(rows: FvbmLearningRow[]): Figure {
  const steps = checkFvbmRows('fvbmKlFigure', rows);
  return lines(
    [
      { name: 'exact gradient', x: steps, y: rows.map((r) => r.exactKl), color: PALETTE[0] },
      { name: 'Gibbs gradient', x: steps, y: rows.map((r) => r.gibbsKl), color: PALETTE[1] },
    ],
    {
      title: 'Distance to the data-generating machine',
      xTitle: 'gradient step',
      yTitle: 'KL(teacher ‖ student) (nats)',
      logY: true,
    },
  );
}

/** The reconstruction error of each trained RBM per epoch, one coloured series per model. */
export function rbmReconstructionFigure(runs: { name: string; history: RbmEpochRow[] }[]): Figure {
  if (runs.length === 0) throw new Error('rbmReconstructionFigure: no trained models to plot');
  for (const run of runs)
    if (run.history.length === 0)
      throw new Error(`rbmReconstructionFigure: ${run.name} has no epochs in its history`);
  return lines(
    runs.map((run, k) => ({
      name: run.name,
      x: run.history.map((r) => r.epoch),
      y: run.history.map((r) => r.reconstruction),
      mode: 'lines+markers',
      color: PALETTE[k],
    })),
    {
      title: 'Reconstruction error on 1,000 training images',
      xTitle: 'epoch',
      yTitle: 'Σᵢ (vᵢ − p(vᵢ|h))² per image',
    },
  );
}

/** One AIS estimate of log Z with K intermediate distributions and its standard error. */
export interface AisCheck {
  K: number;
  logZ: number;
  se: number;
}

/**
 * AIS estimates of log Z (± 2 standard errors) against the number K of intermediate
 * distributions, with the exact value as a dashed line; `model` names the RBM in the title.
 */
export function aisAgainstExactFigure(
  checks: AisCheck[],
  exactLogZ: number,
  options: { runs: number; model: string },
): Figure {
  checkOptions('aisAgainstExactFigure', options, { runs: true, model: true });
  if (checks.length === 0) throw new Error('aisAgainstExactFigure: no AIS estimates to plot');
  if (!Number.isFinite(exactLogZ))
    throw new Error(`aisAgainstExactFigure: the exact log Z must be finite, got ${exactLogZ}`);
  checks.forEach((c, i) => {
    if (!(Number.isInteger(c.K) && c.K > 0))
      throw new Error(
        `aisAgainstExactFigure: checks[${i}].K must be a positive integer, got ${c.K}`,
      );
    if (!Number.isFinite(c.logZ) || !(c.se >= 0))
      throw new Error(
        `aisAgainstExactFigure: checks[${i}] needs a finite logZ and a standard error >= 0, got ` +
          `${c.logZ} ± ${c.se}`,
      );
  });
  const ks = checks.map((c) => c.K);
  return lines(
    [
      {
        name: `AIS (${options.runs} runs) ± 2 s.e.`,
        x: ks,
        y: checks.map((c) => c.logZ),
        error: checks.map((c) => 2 * c.se),
        mode: 'lines+markers',
        color: PALETTE[0],
      },
      levelSeries('exact', ks, exactLogZ, { dash: 'dash', color: PALETTE[7] }),
    ],
    {
      title: `AIS against exact log Z (${options.model})`,
      xTitle: 'intermediate distributions K',
      yTitle: 'log Z (nats)',
      logX: true,
    },
  );
}

const DBM_STAGES: DbmEpochRow['stage'][] = ['bottom', 'top', 'joint'];

/**
 * One table row per stage of DBM training (bottom RBM, top RBM, joint) that ran: its epochs, the
 * final reconstruction error and its own seconds (the history's seconds are cumulative).
 */
export function dbmStageSummaryRows(
  history: DbmEpochRow[],
): { stage: string; epochs: number; 'reconstruction error': number; seconds: number }[] {
  history.forEach((r, i) => {
    if (!DBM_STAGES.includes(r.stage))
      throw new Error(
        `dbmStageSummaryRows: history[${i}].stage is '${r.stage}'; expected one of ` +
          DBM_STAGES.join(', '),
      );
    if (!Number.isFinite(r.seconds) || (i > 0 && r.seconds < history[i - 1].seconds))
      throw new Error(
        `dbmStageSummaryRows: history[${i}].seconds must be finite and cumulative (not below ` +
          `the row before), got ${r.seconds}`,
      );
  });
  return DBM_STAGES.flatMap((stage) => {
    const first = history.findIndex((r) => r.stage === stage);
    if (first < 0) return [];
    const rows = history.filter((r) => r.stage === stage);
    const last = rows[rows.length - 1];
    return [
      {
        stage,
        epochs: rows.length,
        'reconstruction error': last.reconstruction,
        seconds: last.seconds - (first > 0 ? history[first - 1].seconds : 0),
      },
    ];
  });
}
