/**
 * Formats the TypeScript code cells of the notebooks with Prettier (the repository's
 * .prettierrc.json, 100 characters), or with --check reports every cell that is not formatted and
 * every code line longer than 100 characters, and exits non-zero.
 *
 *   npm run format              # lib/, scripts/, tests/ and the notebooks' code cells
 *   npm run lint                # ESLint, then Prettier --check, then this script with --check
 */
import * as fs from 'fs';
import * as path from 'path';
import * as prettier from 'prettier';
import { cellSource, listNotebooks, readNotebook, ROOT } from './jupyter';

/** The longest code line a notebook cell may have (what fits a notebook column and a slide). */
export const MAX_LINE = 100;

/** A cell's text as nbformat stores it: lines that keep their newline, the last one without. */
function toSourceLines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

/** The cell formatted by Prettier, without the trailing newline a file would have. */
async function formatCell(source: string, options: prettier.Options): Promise<string> {
  const formatted = await prettier.format(source, { ...options, parser: 'typescript' });
  return formatted.replace(/\n+$/, '');
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const options = (await prettier.resolveConfig(path.join(ROOT, 'notebooks', 'x.ts'))) ?? {};
  const problems: string[] = [];
  for (const file of listNotebooks(names)) {
    const nb = readNotebook(file);
    const rel = path.relative(ROOT, file);
    let changed = false;
    for (const [i, cell] of nb.cells.entries()) {
      if (cell.cell_type !== 'code') continue;
      const source = cellSource(cell);
      let formatted: string;
      try {
        formatted = await formatCell(source, options);
      } catch (err) {
        problems.push(`${rel} cell ${i} (${cell.id}): ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      if (formatted !== source) {
        if (check) problems.push(`${rel} cell ${i} (${cell.id}) is not formatted (npm run format)`);
        else {
          cell.source = toSourceLines(formatted);
          changed = true;
        }
      }
      formatted.split('\n').forEach((line, j) => {
        if (line.length > MAX_LINE) {
          problems.push(
            `${rel} cell ${i} (${cell.id}) line ${j + 1} has ${line.length} characters ` +
              `(at most ${MAX_LINE})`,
          );
        }
      });
    }
    if (changed) fs.writeFileSync(file, `${JSON.stringify(nb, null, 1)}\n`);
  }
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exit(1);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
