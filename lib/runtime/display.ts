/**
 * Rich output for notebooks. Inside a tslab kernel, outputs go to Jupyter as MIME bundles (several
 * representations of one output, e.g. interactive HTML plus a PNG); outside one, callers fall back
 * to text.
 */
import { randomBytes } from 'crypto';

/** One output: MIME type to content (a string, or JSON for JSON MIME types). */
export type MimeBundle = Record<string, unknown>;

type WriteDisplayData = (
  data: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } },
  update: boolean,
) => void;

function writer(): WriteDisplayData | null {
  try {
    // tslab keeps its kernel connection in this module; it is null outside a running kernel.
    return (require('tslab/dist/jupyter') as { lastWriteDisplayData: WriteDisplayData | null })
      .lastWriteDisplayData;
  } catch {
    return null;
  }
}

type ErrorEvent = 'uncaughtException' | 'unhandledRejection';
const ERROR_EVENTS: ErrorEvent[] = ['uncaughtException', 'unhandledRejection'];

/** The process's error handlers now, to compare with after loading a backend. */
export function errorListeners(): Record<ErrorEvent, unknown[]> {
  return {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
}

let rejectionFilterInstalled = false;

/**
 * Keeps the tslab kernel alive through errors outside a cell's own code. The wasm backend's
 * Emscripten module installs process handlers that rethrow every uncaught exception and unhandled
 * rejection, which kills the kernel; tslab's own handlers report the error and carry on. So the
 * handlers added since `before` are removed. And tslab does not wait for its ZeroMQ sends: an
 * output sent while the socket is still busy with a large earlier one is rejected with EBUSY; such
 * an output (a progress redraw, typically, which the next one replaces) is dropped silently instead
 * of being reported.
 */
export function keepKernelAlive(before: Record<ErrorEvent, unknown[]>): void {
  if (!inNotebook()) return;
  for (const event of ERROR_EVENTS) {
    const added = (process as NodeJS.EventEmitter)
      .listeners(event)
      .filter((listener) => !before[event].includes(listener));
    for (const listener of added)
      (process as NodeJS.EventEmitter).removeListener(
        event,
        listener as (...args: unknown[]) => void,
      );
  }
  if (rejectionFilterInstalled) return;
  rejectionFilterInstalled = true;
  const reporters = process.listeners('unhandledRejection');
  reporters.forEach((listener) => process.removeListener('unhandledRejection', listener));
  process.on('unhandledRejection', (reason: unknown, promise: Promise<unknown>) => {
    if ((reason as { code?: string } | null)?.code === 'EBUSY') return;
    reporters.forEach((report) => report(reason, promise));
  });
}

/** True inside a running tslab kernel (a notebook), false in plain Node (scripts, tests). */
export function inNotebook(): boolean {
  return writer() != null;
}

/** Sends one output with several MIME representations. Returns false outside a notebook. */
export function displayBundle(bundle: MimeBundle, metadata: Record<string, unknown> = {}): boolean {
  const write = writer();
  if (!write) return false;
  write({ data: bundle, metadata, transient: {} }, false);
  return true;
}

/** An output that can be replaced in place (progress bars, live plots). */
export class LiveOutput {
  private readonly id = randomBytes(8).toString('hex');
  private shown = false;

  /** Replaces the output with `bundle`; returns false outside a notebook. */
  update(bundle: MimeBundle, metadata: Record<string, unknown> = {}): boolean {
    const write = writer();
    if (!write) return false;
    write({ data: bundle, metadata, transient: { display_id: this.id } }, this.shown);
    this.shown = true;
    return true;
  }
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}
