/**
 * Rich output for notebooks. Inside a tslab kernel, outputs go to Jupyter as MIME bundles (several
 * representations of one output, e.g. interactive HTML plus a PNG); outside one, callers fall back to text.
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
    return (require('tslab/dist/jupyter') as { lastWriteDisplayData: WriteDisplayData | null }).lastWriteDisplayData;
  } catch {
    return null;
  }
}

let guarded = false;

/**
 * tslab does not wait for its ZeroMQ sends to finish: an output sent while the socket is still busy with a
 * large earlier one is rejected with EBUSY, and the unhandled rejection would kill the kernel mid-training.
 * This drops such an output instead (a progress redraw, typically; the next one replaces it).
 */
export function guardNotebookOutput(): void {
  if (guarded || !inNotebook()) return;
  guarded = true;
  process.on('unhandledRejection', (reason) => {
    if ((reason as { code?: string } | null)?.code === 'EBUSY') return;
    throw reason;
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
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
