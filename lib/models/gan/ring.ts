/**
 * The ring experiment of notebook 10: a GAN trained on the ring of Gaussians, with the ring's
 * coverage (modes covered, fraction of samples within 3 std of a mode) measured at every snapshot.
 */
import { RingOptions, ringBatches, ringCoverage } from '../../data/ring';
import { runLoop, seed as seedRandom } from '../../runtime';
import { checkOptions, OptionKeys } from '../../runtime/checks';
import { History } from '../../training';
import { GAN, MlpGanConfig, TOY_GAN } from './gan';
import { GanRun, GanTrainer, GanTrainerOptions, trainGan } from './trainer';

export interface RingExperimentOptions {
  steps: number;
  /** Overrides of TOY_GAN (e.g. { pack: 2 }). */
  config?: Partial<MlpGanConfig>;
  trainer?: GanTrainerOptions;
  /** Default 256. */
  batchSize?: number;
  /** Snapshot every this many steps (default steps / 8). */
  snapshotEvery?: number;
  /** Samples per snapshot (default 1000). */
  snapshotSize?: number;
  ring?: RingOptions;
  /**
   * Seeds all random draws first, so that runs differing in one option start from the same
   * networks.
   */
  seed?: number;
  label?: string;
}

export interface RingExperiment {
  gan: GAN;
  /** The training run (`run.interrupted` when an interrupt stopped it early). */
  run: GanRun;
  /** One row per snapshot: step, 'modes covered', 'fraction near a mode'. */
  coverage: History;
}

const RING_EXPERIMENT_KEYS: OptionKeys<RingExperimentOptions> = {
  steps: true,
  config: true,
  trainer: true,
  batchSize: true,
  snapshotEvery: true,
  snapshotSize: true,
  ring: true,
  seed: true,
  label: true,
};

/** Trains a GAN on the ring and measures its coverage over training. */
export async function trainRingGan(options: RingExperimentOptions): Promise<RingExperiment> {
  checkOptions('trainRingGan', options, RING_EXPERIMENT_KEYS);
  const { steps, batchSize = 256 } = options;
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`trainRingGan: steps must be a positive integer, got ${steps}`);
  const every = options.snapshotEvery ?? Math.max(1, Math.round(steps / 8));
  if (!Number.isInteger(every) || every < 1)
    throw new Error(`trainRingGan: snapshotEvery must be a positive integer, got ${every}`);
  if (options.seed !== undefined) seedRandom(options.seed);
  const gan = new GAN({ ...TOY_GAN, ...options.config });
  const trainer = new GanTrainer(gan, options.trainer);
  const snapshotAt = Array.from({ length: Math.floor(steps / every) + 1 }, (_, i) => i * every);
  if (snapshotAt[snapshotAt.length - 1] !== steps) snapshotAt.push(steps);
  const coverage = new History();
  const batches = ringBatches(batchSize, options.ring);
  try {
    const run = await runLoop(
      'ring experiment',
      () =>
        trainGan(trainer, batches, {
          steps,
          snapshotAt,
          snapshotSize: options.snapshotSize ?? 1000,
          label: options.label ?? 'ring GAN',
          onSnapshot: (snap) => {
            const c = ringCoverage(snap.samples, options.ring);
            coverage.push({
              step: snap.step,
              'modes covered': c.modesCovered,
              'fraction near a mode': c.fractionNearMode,
            });
          },
        }),
      { then: 'running the cell again starts the experiment over' },
    );
    return { gan, run, coverage };
  } finally {
    batches.return(undefined);
    trainer.dispose();
  }
}
