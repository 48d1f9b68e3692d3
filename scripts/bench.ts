/**
 * Training-step benchmark of the kit's MNIST-sized workloads on the selected TensorFlow.js backend.
 *
 *   npm run bench [-- --json] [-- --torch] [-- --rounds N] [-- --steps N] [-- --only dcgan,convvae]
 *
 * Workloads: the kit's own model classes, with random binary (or uniform) images standing in for
 * MNIST:
 *   vae: models.vae.VAE 784-400-20, Bernoulli, VaeTrainer.step: batch 128, Adam 1e-3 (one step)
 *   gan: models.gan.GAN MNIST_GAN, GanTrainer.step: batch 64, Adam 2e-4 (one D step + one G step)
 *   rbm: models.boltzmann.RBM 784x500, CdTrainer.step: CD-1, batch 100, plain SGD (one update)
 *   dcgan: models.gan.GAN MNIST_DCGAN, GanTrainer.step: batch 64, Adam 2e-4 (D step + G step)
 *   convvae: models.vae.VAE CONV_VAE_CONFIG, VaeTrainer.step: batch 128, Adam 1e-3 (one step)
 * Each workload is warmed up, then timed in rounds of `steps` steps; the table shows the median
 * round. With --torch, every round of a workload is followed by a round of the PyTorch reference
 * (scripts/bench_torch.py: the same networks, one thread) on the same workload, so both see the
 * same machine load; the ratio is median tfjs time / median PyTorch time. The backend comes from
 * GENLAB_BACKEND (default: the fastest available); GENLAB_NATIVE=0 turns the native kernels off
 * (pure-wasm fallback), GENLAB_THREADS sets their thread count, and --stock runs tfjs's own wasm
 * kernels without any of genlab's (the baseline). GENLAB_PYTHON names the Python that has PyTorch
 * (default: the first of python3 and /usr/bin/python3 that can import torch).
 */
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { models, runtime, tf } from 'genlab';
const { kernelsInfo } = runtime;

/** The PyTorch reference, scripts/bench_torch.py (dist/scripts/bench.js runs it from there). */
const TORCH_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'bench_torch.py');
const PYTHON_ENV = 'GENLAB_PYTHON';

type WorkloadName = 'vae' | 'gan' | 'rbm' | 'dcgan' | 'convvae';

interface Workload {
  name: WorkloadName;
  description: string;
  /** Images per step. */
  batch: number;
  /** Matrix-product FLOPs of one step as PyTorch computes it (the work both sides must do). */
  flops: number;
  step(): void;
  dispose(): void;
}

const gemm = (m: number, k: number, n: number): number => 2 * m * k * n;

/**
 * FLOPs of a convolution to `outSide` x `outSide` maps of `outC` channels from `inC` with a k x k
 * kernel (one product per output value and patch entry); a transposed convolution costs what the
 * convolution it is the adjoint of costs.
 */
const convFlops = (batch: number, outSide: number, k: number, inC: number, outC: number): number =>
  2 * batch * outSide * outSide * k * k * inC * outC;

/**
 * FLOPs of a stack of layers given their forward products, forward only or with the backward
 * pass (weight and input gradients, the first layer's input gradient optional).
 */
function stackFlops(forward: number[], backward: boolean, inputGradient: boolean): number {
  return forward.reduce(
    (total, f, i) => total + f + (backward ? f + (i > 0 || inputGradient ? f : 0) : 0),
    0,
  );
}

/** The forward products of an MLP with layer sizes `sizes` at a batch. */
const mlpLayers = (sizes: number[], batch: number): number[] =>
  sizes.slice(1).map((out, i) => gemm(batch, sizes[i], out));

/**
 * FLOPs of one D step + one G step as PyTorch computes them: G forward; D forward and backward on
 * the real and the fake batch; in the G step D forward and backward (its weight gradients too,
 * which PyTorch computes), into G and through G.
 */
const ganFlops = (g: number[], d: number[]): number =>
  2 * stackFlops(d, true, false) + stackFlops(d, true, true) + stackFlops(g, true, false);

function binaryBatch(rows: number, cols: number): tf.Tensor2D {
  return tf.tidy(() =>
    tf.cast(tf.greater(tf.randomUniform([rows, cols]), 0.5), 'float32'),
  ) as tf.Tensor2D;
}

function vaeWorkload(): Workload {
  const batch = 128;
  const model = new models.vae.VAE(models.vae.LECTURE_CONFIG);
  const trainer = new models.vae.VaeTrainer(model, { batchSize: batch, learningRate: 1e-3 });
  const x = binaryBatch(batch, 784);
  return {
    name: 'vae',
    description:
      'models.vae.VAE (lecture config 784-400-20, Bernoulli) + VaeTrainer.step, batch 128, Adam',
    batch,
    flops:
      stackFlops(mlpLayers([784, 400, 40], batch), true, false) +
      stackFlops(mlpLayers([20, 400, 784], batch), true, true),
    step: () => {
      trainer.step(x);
    },
    dispose: () => {
      trainer.dispose();
      model.dispose();
      x.dispose();
    },
  };
}

function ganWorkload(): Workload {
  const batch = 64;
  // The reference's networks have no dropout in D; the kit's MNIST_GAN adds it (a few cheap kernels
  // per step).
  const gan = new models.gan.GAN({ ...models.gan.MNIST_GAN, discriminatorDropout: 0 });
  const trainer = new models.gan.GanTrainer(gan, { generatorLearningRate: 2e-4 });
  const real = tf.tidy(() => tf.randomUniform([batch, 784])) as tf.Tensor2D;
  const gSizes = [100, 256, 512, 1024, 784];
  const dSizes = [784, 1024, 512, 256, 1];
  return {
    name: 'gan',
    description:
      'models.gan.GAN (MNIST_GAN without dropout: G 100-256-512-1024-784, D 784-1024-512-256-1) ' +
      '+ GanTrainer.step (D step + G step), batch 64, Adam',
    batch,
    flops: ganFlops(mlpLayers(gSizes, batch), mlpLayers(dSizes, batch)),
    step: () => {
      trainer.step(real);
    },
    dispose: () => {
      trainer.dispose();
      gan.dispose();
      real.dispose();
    },
  };
}

function rbmWorkload(): Workload {
  const batch = 100;
  const rbm = new models.boltzmann.RBM(784, 500);
  // Plain SGD, as the PyTorch reference (no momentum, no weight decay).
  const trainer = new models.boltzmann.CdTrainer(rbm, {
    k: 1,
    learningRate: 0.05,
    momentum: 0,
    weightDecay: 0,
  });
  const v0 = binaryBatch(batch, 784);
  return {
    name: 'rbm',
    description: 'models.boltzmann.RBM 784x500 + CdTrainer.step (CD-1), batch 100',
    batch,
    flops: 5 * gemm(batch, 784, 500),
    step: () => trainer.step(v0),
    dispose: () => {
      trainer.dispose();
      rbm.dispose();
      v0.dispose();
    },
  };
}

function dcganWorkload(): Workload {
  const batch = 64;
  const gan = new models.gan.GAN(models.gan.MNIST_DCGAN);
  const trainer = new models.gan.GanTrainer(gan, { generatorLearningRate: 2e-4 });
  const real = tf.tidy(() => tf.randomUniform([batch, 784])) as tf.Tensor2D;
  // G: 1 -> 7 -> 14 -> 28, D: 28 -> 14 -> 7 -> 1 (the sides of each layer's smaller maps).
  const g = [
    convFlops(batch, 1, 7, 128, 100),
    convFlops(batch, 7, 4, 64, 128),
    convFlops(batch, 14, 4, 1, 64),
  ];
  const d = [
    convFlops(batch, 14, 4, 1, 64),
    convFlops(batch, 7, 4, 64, 128),
    convFlops(batch, 1, 7, 128, 1),
  ];
  return {
    name: 'dcgan',
    description:
      'models.gan.GAN MNIST_DCGAN (G ConvT 100-128 7x7, BN, ReLU, ConvT 128-64 4x4 s2, BN, ReLU, ' +
      'ConvT 64-1 4x4 s2, tanh; D Conv 1-64 4x4 s2, LReLU, Conv 64-128 4x4 s2, BN, LReLU, Conv ' +
      '128-1 7x7) + GanTrainer.step (D step + G step), batch 64, Adam',
    batch,
    flops: ganFlops(g, d),
    step: () => {
      trainer.step(real);
    },
    dispose: () => {
      trainer.dispose();
      gan.dispose();
      real.dispose();
    },
  };
}

function convVaeWorkload(): Workload {
  const batch = 128;
  const model = new models.vae.VAE(models.vae.CONV_VAE_CONFIG);
  const trainer = new models.vae.VaeTrainer(model, { batchSize: batch, learningRate: 1e-3 });
  const x = binaryBatch(batch, 784);
  const encoder = [
    convFlops(batch, 14, 4, 1, 32),
    convFlops(batch, 7, 4, 32, 64),
    gemm(batch, 3136, 40),
  ];
  const decoder = [
    gemm(batch, 20, 3136),
    convFlops(batch, 7, 4, 32, 64),
    convFlops(batch, 14, 4, 1, 32),
  ];
  return {
    name: 'convvae',
    description:
      'models.vae.VAE CONV_VAE_CONFIG (Conv 1-32 4x4 s2, ReLU, Conv 32-64 4x4 s2, ReLU, dense ' +
      '3136-20+20; dense 20-3136, ReLU, ConvT 64-32 4x4 s2, ReLU, ConvT 32-1 4x4 s2; Bernoulli) ' +
      '+ VaeTrainer.step, batch 128, Adam',
    batch,
    flops: stackFlops(encoder, true, false) + stackFlops(decoder, true, true),
    step: () => {
      trainer.step(x);
    },
    dispose: () => {
      trainer.dispose();
      model.dispose();
      x.dispose();
    },
  };
}

const FACTORIES: Record<WorkloadName, () => Workload> = {
  vae: vaeWorkload,
  gan: ganWorkload,
  rbm: rbmWorkload,
  dcgan: dcganWorkload,
  convvae: convVaeWorkload,
};

interface Options {
  json: boolean;
  torch: boolean;
  rounds: number;
  steps: number;
  only: WorkloadName[];
  /** Stock tfjs wasm kernels (genlab's kernels not installed), to show what they buy. */
  stock: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    json: false,
    torch: false,
    rounds: 5,
    steps: 10,
    only: Object.keys(FACTORIES) as WorkloadName[],
    stock: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    const count = (what: string): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`${what} must be a positive integer, got ${argv[i]}`);
      return n;
    };
    if (arg === '--json') options.json = true;
    else if (arg === '--torch') options.torch = true;
    else if (arg === '--stock') options.stock = true;
    else if (arg === '--rounds') options.rounds = count('--rounds');
    else if (arg === '--steps') options.steps = count('--steps');
    else if (arg === '--only') {
      const names = value().split(',');
      for (const name of names) {
        if (!(name in FACTORIES))
          throw new Error(
            `--only: unknown workload '${name}', use some of ${Object.keys(FACTORIES).join(',')}`,
          );
      }
      options.only = names as Options['only'];
    } else
      throw new Error(
        `unknown option '${arg}': use --json, --torch, --stock, --rounds N, --steps N, --only ` +
          `${Object.keys(FACTORIES).join(',')}`,
      );
  }
  return options;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/**
 * The Python that has PyTorch: GENLAB_PYTHON, else the first of python3 and /usr/bin/python3 (where
 * Debian's python3-torch lives) that can import torch.
 */
function torchPython(): string {
  const requested = process.env[PYTHON_ENV];
  const candidates = requested ? [requested] : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  throw new Error(
    `--torch needs PyTorch, which ${candidates.join(' and ')} cannot import: install it (Debian/` +
      `Ubuntu: sudo apt-get install python3-torch; elsewhere: python3 -m pip install torch) or ` +
      `set ${PYTHON_ENV} to a Python that has it`,
  );
}

/**
 * The PyTorch reference as a long-lived worker (scripts/bench_torch.py --worker, one thread): it
 * times `steps` steps of one workload on request, so that tfjs and PyTorch rounds can alternate
 * under the same machine load.
 */
class TorchWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiting?: (line: string) => void;
  private stderr = '';
  private exited?: Error;
  private failWaiting?: (error: Error) => void;

  constructor(readonly python: string) {
    this.child = spawn(python, [TORCH_SCRIPT, '--worker'], {
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    let buffered = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (this.waiting) {
          const resolve = this.waiting;
          this.waiting = undefined;
          resolve(line);
        } else this.lines.push(line);
      }
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.on('exit', (code) => {
      this.exited = new Error(
        `the PyTorch worker (${python} ${TORCH_SCRIPT}) exited with code ${code}:\n${this.stderr}`,
      );
      this.failWaiting?.(this.exited);
    });
  }

  private next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  async ready(): Promise<void> {
    const line = await this.next();
    if (line !== 'ready')
      throw new Error(`the PyTorch worker did not start: ${line}\n${this.stderr}`);
  }

  /** ms/step of `steps` steps of one workload. */
  async time(name: string, steps: number): Promise<number> {
    this.child.stdin.write(`${name} ${steps}\n`);
    return Number(await this.next());
  }

  close(): void {
    this.child.stdin.end();
  }
}

interface Row {
  workload: string;
  description: string;
  batch: number;
  msPerStep: number;
  imagesPerSecond: number;
  gflops: number;
  epochSeconds: number;
  rounds: number[];
  torchMsPerStep?: number;
  torchRounds?: number[];
  ratio?: number;
  leakedTensors: number;
}

/**
 * Warms every workload up, then runs `rounds` rounds; a round times `steps` steps of each workload
 * and, with --torch, right after it the same number of PyTorch steps of the same workload, so that
 * both see the same machine load. Tensor leaks are counted over all timed steps.
 */
async function runAll(options: Options): Promise<{ rows: Row[]; failed: string[] }> {
  const created = options.only.map((name) => FACTORIES[name]());
  const workloads: Workload[] = [];
  const failed: string[] = [];
  const torch = options.torch ? new TorchWorker(torchPython()) : undefined;
  try {
    await torch?.ready();
    for (const w of created) {
      // A workload the backend cannot run (stock wasm cannot train a convolution) is reported.
      try {
        for (let i = 0; i < 3; i++) w.step();
      } catch (err) {
        failed.push(`${w.name}: cannot run here (${(err as Error).message})`);
        continue;
      }
      workloads.push(w);
      await torch?.time(w.name, 3);
    }
    const rounds = workloads.map((): number[] => []);
    const torchRounds = workloads.map((): number[] => []);
    const leaked = workloads.map(() => 0);
    for (let r = 0; r < options.rounds; r++) {
      for (const [i, w] of workloads.entries()) {
        const before = tf.memory().numTensors;
        const start = performance.now();
        for (let s = 0; s < options.steps; s++) w.step();
        rounds[i].push((performance.now() - start) / options.steps);
        leaked[i] += tf.memory().numTensors - before;
        if (torch) torchRounds[i].push(await torch.time(w.name, options.steps));
      }
    }
    const rows = workloads.map((w, i) => {
      const ms = median(rounds[i]);
      const row: Row = {
        workload: w.name,
        description: w.description,
        batch: w.batch,
        msPerStep: ms,
        imagesPerSecond: (w.batch * 1000) / ms,
        gflops: w.flops / ms / 1e6,
        epochSeconds: ((60000 / w.batch) * ms) / 1000,
        rounds: rounds[i],
        leakedTensors: leaked[i],
      };
      if (torch) {
        row.torchMsPerStep = median(torchRounds[i]);
        row.torchRounds = torchRounds[i];
        row.ratio = ms / row.torchMsPerStep;
      }
      return row;
    });
    return { rows, failed };
  } finally {
    torch?.close();
    created.forEach((w) => w.dispose());
  }
}

function table(rows: Row[]): string {
  const header = [
    'workload',
    'ms/step',
    'images/s',
    'GFLOP/s',
    's/epoch (60k)',
    'torch ms/step',
    'ratio',
  ];
  const body = rows.map((r) => [
    r.workload,
    r.msPerStep.toFixed(1),
    r.imagesPerSecond.toFixed(0),
    r.gflops.toFixed(1),
    r.epochSeconds.toFixed(1),
    r.torchMsPerStep !== undefined ? r.torchMsPerStep.toFixed(1) : '-',
    r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [header, ...body]
    .map((cells) => cells.map((c, i) => c.padStart(widths[i])).join('  '))
    .join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  await runtime.init({
    seed: 0,
    report: false,
    ...(options.stock ? { backend: 'wasm', kernels: 'stock' as const } : {}),
  });
  const info = runtime.backendInfo() as runtime.BackendInfo;
  const kernels = kernelsInfo();
  const header = {
    backend: info.name,
    threads: info.threads,
    kernels:
      info.name === 'wasm'
        ? (kernels?.reason ?? 'stock tfjs wasm kernels')
        : `stock ${info.name} kernels`,
    tfjs: tf.version.tfjs,
    rounds: options.rounds,
    stepsPerRound: options.steps,
    torch: options.torch
      ? `${path.relative(process.cwd(), TORCH_SCRIPT)}: 1 thread, rounds alternating with tfjs`
      : undefined,
  };
  if (!options.json) {
    console.log(
      `genlab bench: backend ${header.backend} (${header.threads} ` +
        `thread${header.threads === 1 ? '' : 's'}; ${header.kernels}) | tfjs ${header.tfjs} | ` +
        `median of ${options.rounds} rounds x ${options.steps} ` +
        `steps${options.torch ? ' | PyTorch 1 thread, alternating rounds' : ''}`,
    );
  }
  const { rows, failed } = await runAll(options);
  if (options.json) {
    console.log(JSON.stringify({ ...header, workloads: rows, failed }, null, 2));
  } else {
    console.log(table(rows));
    failed.forEach((f) => console.log(f));
    const leaks = rows.filter((r) => r.leakedTensors !== 0);
    if (leaks.length)
      console.log(
        `WARNING: tensors leaked per run: ` +
          `${leaks.map((r) => `${r.workload} ${r.leakedTensors}`).join(', ')}`,
      );
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
