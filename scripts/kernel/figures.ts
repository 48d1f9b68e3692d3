/**
 * Static images of figures, made by the kernel. A figure goes to the notebook as plotly JSON
 * (`application/vnd.plotly.v1+json`), which JupyterLab, VS Code and the classic Notebook (with the
 * kit's extension) draw interactively. Front ends without a plotly renderer (GitHub, nbviewer, a
 * Notebook without the extension, PDF export) show the output's `image/png` instead: the kernel
 * renders it with a headless Chromium as soon as the figure is out and adds it to the output in
 * place (`update_display_data`), and the cell finishes only once its figures have their images.
 */
import { imageSize } from 'genlab/dist/plot/export';
import { Figure, PLOTLY_MIME } from 'genlab/dist/plot/figure';

/** Set to 0 to keep figures without a static image (faster; blank on GitHub and nbviewer). */
export const STATIC_FIGURES_ENV = 'GENLAB_STATIC_FIGURES';

/** What the kernel sends for one output (Jupyter's display_data content). */
export interface DisplayContent {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

/** Renders a plotly figure to PNG bytes (FigureRenderer of lib/plot/export). */
export interface PngRenderer {
  png(fig: unknown): Promise<Buffer>;
  close(): Promise<void>;
}

interface Pending {
  /** The newest content of the output, still to be rendered. */
  next?: DisplayContent;
  send: (content: DisplayContent) => void;
  running: Promise<void>;
}

/** The size a figure's PNG is shown at: the figure's own (its PNG has that many pixels). */
function pngSize(fig: unknown): { width: number; height: number } {
  const { width, height } = imageSize(fig as Figure);
  return { width, height };
}

export class StaticFigureImages {
  private renderer?: Promise<PngRenderer | null>;
  private readonly pending = new Map<string, Pending>();
  private ids = 0;

  /**
   * @param launch starts the renderer (called once, at the first figure)
   * @param warn shows one line to the student (the first time rendering fails)
   */
  constructor(
    private readonly launch: () => Promise<PngRenderer>,
    private readonly warn: (line: string) => void,
    private readonly enabled = (process.env[STATIC_FIGURES_ENV] ?? '1').trim() !== '0',
  ) {}

  /**
   * Sends `content` now; if it is a figure without an image, renders one and sends the figure
   * again with it, unless a newer version of the same output was sent meanwhile (live figures).
   */
  show(
    content: DisplayContent,
    update: boolean,
    send: (content: DisplayContent, update: boolean) => void,
  ): void {
    if (!this.enabled || !content.data[PLOTLY_MIME] || content.data['image/png'] !== undefined) {
      send(content, update);
      return;
    }
    const id = content.transient.display_id ?? `genlab-figure-${process.pid}-${++this.ids}`;
    const withId = { ...content, transient: { ...content.transient, display_id: id } };
    send(withId, update);
    const pending = this.pending.get(id);
    if (pending) {
      pending.next = withId;
      pending.send = (c) => send(c, true);
      return;
    }
    const entry: Pending = { next: withId, send: (c) => send(c, true), running: Promise.resolve() };
    entry.running = this.renderLatest(id, entry);
    this.pending.set(id, entry);
  }

  /** Resolves when every figure shown so far has its image (or could not get one). */
  async flush(): Promise<void> {
    while (this.pending.size > 0)
      await Promise.all([...this.pending.values()].map((p) => p.running));
  }

  async close(): Promise<void> {
    const renderer = await this.renderer;
    await renderer?.close();
  }

  private async renderLatest(id: string, entry: Pending): Promise<void> {
    try {
      while (entry.next) {
        const content = entry.next;
        entry.next = undefined;
        const renderer = await this.getRenderer();
        if (!renderer) return;
        let png: Buffer;
        try {
          png = await renderer.png(content.data[PLOTLY_MIME]);
        } catch (e) {
          this.warn(`genlab: a figure got no static image: ${(e as Error).message.split('\n')[0]}`);
          continue;
        }
        if (entry.next) continue;
        entry.send({
          ...content,
          data: { ...content.data, 'image/png': png.toString('base64') },
          metadata: { ...content.metadata, 'image/png': pngSize(content.data[PLOTLY_MIME]) },
        });
      }
    } finally {
      this.pending.delete(id);
    }
  }

  private getRenderer(): Promise<PngRenderer | null> {
    this.renderer ??= this.launch().catch((e: Error) => {
      this.warn(
        `genlab: figures get no static image (they show in Jupyter and VS Code, but not on ` +
          `GitHub or nbviewer): ${e.message.split('\n')[0]}`,
      );
      return null;
    });
    return this.renderer;
  }
}
