/**
 * The kit's Jupyter kernel ("TypeScript (genlab)"): tslab's compiler and executor behind a server
 * that adds what tslab 1.0.22 lacks (see README, "The kernel"):
 *   - execution counts: every execute_request is announced with `execute_input` and its count;
 *   - errors as Jupyter `error` outputs (name, message, the student's own cell lines) instead of a
 *     stack trace of compiled code on stderr; GENLAB_TRACE=1 shows the whole stack;
 *   - Kernel > Interrupt asks the kit's running loops to stop at their next batch (the cell then
 *     finishes normally and keeps its variables); without a kit loop running it rejects the cell
 *     as tslab does;
 *   - figures get a static PNG (./figures);
 *   - outputs are sent one at a time (tslab's concurrent ZeroMQ sends fail with EBUSY);
 *   - after kernel_info, the kernel prepares the first cell (compiler, genlab) while it waits.
 * Usage (from the kernelspec): node main.js --config-path CONNECTION_FILE
 */
import { createConverter, Converter } from 'tslab/dist/converter';
import { ConverterSet, createExecutor, createRequire, Executor } from 'tslab/dist/executor';
import * as jupyter from 'tslab/dist/jupyter';
import { CellRegistry, CompileDiagnostic, compileErrorReport, ErrorReport } from './errors';
import { runtimeErrorReport, TRACE_ENV } from './errors';
import { DisplayContent, PngRenderer, StaticFigureImages } from './figures';

type Message = Parameters<jupyter.ZmqServer['handleExecute']>[1];
/** What the server sends on: a ZeroMQ socket (only its send is used). */
type Socket = { send(message: Buffer[] | string[]): Promise<void> };
type Router = jupyter.ZmqServer['shell'];

/** The kit's loop registry (lib/runtime): the interrupt contract between kernel and library. */
interface LoopRegistry {
  active: number;
  interrupt(): void;
  reset(): void;
}
const LOOPS = Symbol.for('genlab.loops');

function loopRegistry(): LoopRegistry | undefined {
  return (globalThis as { [LOOPS]?: LoopRegistry })[LOOPS];
}

interface ExecuteRequest {
  code: string;
  silent?: boolean;
  store_history?: boolean;
  stop_on_error?: boolean;
}

/**
 * tslab's executor runs a cell's code as `(function(exports, require) { <code>` (with `async`
 * when the cell awaits at top level): these characters precede the code on its first line.
 */
const WRAPPER_COLUMNS = {
  sync: '(function(exports, require) { '.length,
  async: '(async function(exports, require) { '.length,
};

/** tslab's format of a compile diagnostic: file prefix, line, column, message. */
const DIAGNOSTIC_FORMAT = '%s%d:%d - %s';

/** What the cell being executed reported through the executor's console. */
interface CellRun {
  file: string;
  label: string;
  source: string;
  diagnostics: CompileDiagnostic[];
  thrown?: { value: unknown };
}

/** How long the front end stays quiet after kernel_info before the kernel warms up. */
const WARM_UP_AFTER_MS = 1000;

/** Compiled (not run) while the kernel waits: it reads the declarations genlab's users need. */
const WARM_UP_CELL = "import * as genlab from 'genlab';";

/** Where a cell run in `dir` finds module `id` (as tslab's require resolves it), if anywhere. */
function resolveFrom(dir: string, id: string): string | undefined {
  try {
    return createRequire(dir).resolve(id);
  } catch {
    return undefined;
  }
}

export class Kernel {
  readonly cells = new CellRegistry();
  readonly executor: Executor;
  private readonly converters: ConverterSet;
  private current?: CellRun;
  private count = 0;
  private serial = 0;
  private errors = 0;
  private queue: Promise<unknown> = Promise.resolve();
  readonly images = new StaticFigureImages(launchRenderer, (line) =>
    process.stderr.write(`${line}\n`),
  );

  constructor() {
    let node: Converter | undefined;
    let browser: Converter | undefined;
    const record = (converter: Converter): Converter => {
      const convert = converter.convert.bind(converter);
      converter.convert = (prevDecl, src) => {
        const result = convert(prevDecl, src);
        const run = this.current;
        if (run && result.output !== undefined)
          this.cells.add(run.file, {
            label: run.label,
            source: src,
            sourceMaps: result.sourceMaps,
            sourceLineOffset: 1,
            firstLineColumns: result.hasToplevelAwait
              ? WRAPPER_COLUMNS.async
              : WRAPPER_COLUMNS.sync,
          });
        return result;
      };
      return converter;
    };
    this.converters = {
      get node() {
        return (node ??= record(createConverter({ isJS: false, isBrowser: false })));
      },
      get browser() {
        return (browser ??= createConverter({ isJS: false, isBrowser: true }));
      },
      close() {
        node?.close();
        browser?.close();
      },
    };
    this.executor = createExecutor(process.cwd(), this.converters, {
      log: (...args: unknown[]) => console.log(...args),
      error: (...args: unknown[]) => this.reportFromExecutor(args),
    });
  }

  /**
   * Prepares the first cell while the kernel waits for it: creates the compiler, reads genlab's
   * type declarations (every notebook's first cell imports genlab) and loads genlab, as the
   * notebook's folder resolves it (without genlab there, only the compiler). Each step blocks
   * the kernel, so a request arriving meanwhile waits for the step under way, whose work its
   * own compilation would have done anyway; the steps left then are dropped.
   */
  async warm(): Promise<void> {
    const genlab = resolveFrom(process.cwd(), 'genlab');
    const steps = [() => void this.converters.node];
    if (genlab)
      steps.push(
        () => void this.converters.node.convert('', WARM_UP_CELL),
        () => void require(genlab),
      );
    for (const step of steps) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.serial > 0) return;
      step();
    }
  }

  private reportFromExecutor(args: unknown[]): void {
    const run = this.current;
    if (!run) {
      console.error(...args);
      return;
    }
    if (args[0] === DIAGNOSTIC_FORMAT) {
      const [, file, line, column, message] = args as [string, string, number, number, string];
      run.diagnostics.push({ file: file.trim(), line, column, message });
    } else run.thrown = { value: args[0] };
  }

  /** Queues one execute_request; requests queued before a failing one are aborted. */
  execute(
    req: ExecuteRequest,
    publish: (type: string, content: object) => void,
  ): Promise<Record<string, unknown>> {
    const errorsBefore = this.errors;
    const task = this.queue.then(() =>
      this.errors !== errorsBefore && req.stop_on_error !== false
        ? { status: 'aborted' }
        : this.run(req, publish),
    );
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async run(
    req: ExecuteRequest,
    publish: (type: string, content: object) => void,
  ): Promise<Record<string, unknown>> {
    const silent = req.silent ?? false;
    if (req.store_history ?? !silent) this.count++;
    const count = this.count;
    if (!silent) publish('execute_input', { code: req.code, execution_count: count });
    redirectOutput(publish, this.images);
    const run: CellRun = {
      file: `cell-${++this.serial}`,
      label: `In [${count}]`,
      source: req.code,
      diagnostics: [],
    };
    this.current = run;
    loopRegistry()?.reset();
    let ok: boolean;
    try {
      ok = await this.executor.execute(req.code, { filename: run.file });
    } finally {
      this.current = undefined;
    }
    await this.images.flush();
    if (ok) return { status: 'ok', execution_count: count, payload: [], user_expressions: {} };
    const report = this.errorReport(run);
    publish('error', report);
    this.errors++;
    return { status: 'error', execution_count: count, ...report };
  }

  private errorReport(run: CellRun): ErrorReport {
    if (run.diagnostics.length > 0) return compileErrorReport(run.diagnostics, run.source);
    if (run.thrown)
      return runtimeErrorReport(
        run.thrown.value,
        this.cells,
        run.file,
        (process.env[TRACE_ENV] ?? '').trim() === '1',
      );
    return { ename: 'Error', evalue: 'the cell failed', traceback: ['Error: the cell failed'] };
  }

  /** Kernel > Interrupt: stop the kit's loops at their next batch, else reject the cell. */
  interrupt(): void {
    const loops = loopRegistry();
    if (loops && loops.active > 0) loops.interrupt();
    else this.executor.interrupt();
  }
}

/** The cell's stdout, stderr and rich outputs go to the notebook, under this request. */
function redirectOutput(
  publish: (type: string, content: object) => void,
  images: StaticFigureImages,
): void {
  const decoder = new TextDecoder();
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].write = ((chunk: string | Uint8Array) => {
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk);
      publish('stream', { name, text });
      return true;
    }) as typeof process.stdout.write;
  }
  (jupyter as { lastWriteDisplayData: unknown }).lastWriteDisplayData = (
    content: DisplayContent,
    update: boolean,
  ) =>
    images.show(content, update, (c, u) => publish(u ? 'update_display_data' : 'display_data', c));
}

async function launchRenderer(): Promise<PngRenderer> {
  // Loaded on the first figure only: the kernel starts without a browser.
  const { FigureRenderer } = require('genlab/dist/plot/export') as {
    FigureRenderer: { launch(): Promise<PngRenderer> };
  };
  return FigureRenderer.launch();
}

/**
 * A stand-in for a ZeroMQ socket that sends one message at a time (a send while another is in
 * flight fails with EBUSY, and tslab does not wait for its sends).
 */
function serialized(socket: Socket): Socket {
  let tail: Promise<void> = Promise.resolve();
  const send = (message: Buffer[] | string[]) => {
    tail = tail
      .then(() => socket.send(message))
      .catch((e: Error) => console.error(`send failed: ${e.message}`));
    return tail;
  };
  return { send };
}

class Server extends jupyter.ZmqServer {
  constructor(
    private readonly kernel: Kernel,
    configPath: string,
  ) {
    super(new jupyter.JupyterHandlerImpl(kernel.executor, false), configPath);
  }

  private readonly queues = new Map<Socket, Socket>();

  private queued(socket: Socket): Socket {
    let queue = this.queues.get(socket);
    if (!queue) this.queues.set(socket, (queue = serialized(socket)));
    return queue;
  }

  override publishStatus(status: string, parent: Message): void {
    const out = parent.createReply();
    out.header.msg_type = 'status';
    out.content = { execution_state: status };
    out.signAndSend(this.connInfo.key, this.queued(this.iopub));
  }

  private answeredKernelInfo = false;
  private warmUp?: { timer: NodeJS.Timeout; started: boolean };

  /**
   * Once the front end has the kernel_info reply and is quiet for WARM_UP_AFTER_MS (a front end
   * repeats kernel_info until its IOPub channel receives, and the warm-up must not delay those
   * replies), the kernel prepares the first cell.
   */
  override async handleShellMessage(sock: Router, ...args: Buffer[]): Promise<void> {
    await super.handleShellMessage(this.queued(sock) as unknown as Router, ...args);
    if (!this.answeredKernelInfo || this.warmUp?.started) return;
    clearTimeout(this.warmUp?.timer);
    const warmUp = {
      started: false,
      timer: setTimeout(() => {
        warmUp.started = true;
        this.kernel
          .warm()
          .catch((err: Error) => void process.stderr.write(`warm-up failed: ${err.message}\n`));
      }, WARM_UP_AFTER_MS),
    };
    this.warmUp = warmUp;
  }

  override handleKernelInfo(sock: unknown, msg: Message): void {
    super.handleKernelInfo(sock, msg);
    this.answeredKernelInfo = true;
  }

  override async handleExecute(sock: unknown, msg: Message): Promise<void> {
    const publish = (type: string, content: object) => {
      const out = msg.createReply();
      out.header.msg_type = type;
      out.content = content;
      out.signAndSend(this.connInfo.key, this.queued(this.iopub));
    };
    const content = await this.kernel.execute(msg.content as ExecuteRequest, publish);
    const reply = msg.createReply();
    reply.header.msg_type = 'execute_reply';
    reply.content = content;
    reply.signAndSend(this.connInfo.key, sock);
  }

  override close(): void {
    super.close();
    void this.kernel.images.close().finally(() => process.exit(0));
  }
}

function main(argv: string[]): void {
  const i = argv.indexOf('--config-path');
  if (i < 0 || !argv[i + 1]) {
    console.error('usage: node main.js --config-path CONNECTION_FILE');
    process.exit(2);
  }
  const kernel = new Kernel();
  const server = new Server(kernel, argv[i + 1]);
  process.on('SIGINT', () => kernel.interrupt());
  process.on('uncaughtException', (err) => console.error('UncaughtException:', err));
  process.on('unhandledRejection', (reason) => console.error('UnhandledPromiseRejection:', reason));
  void server.init();
}

if (require.main === module) main(process.argv.slice(2));
