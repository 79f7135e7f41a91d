import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { filterValue } from './filter-value.js';
import { findFont } from './fonts.js';
import { DEFAULT_MEDIA_LIMITS, runMedia, type MediaLimits } from './run-media.js';

/** One cell of a job's contact sheet: a clip's poster (absent for a clip that was not made) and its label. */
export interface SheetTile {
  poster?: string;
  label: string;
  ok: boolean;
}

export interface FrameMaker {
  /** Writes a poster frame and a strip of STRIP_FRAMES frames of `clip` to the two files. */
  posters(clip: string, durationS: number, out: { poster: string; strip: string }): Promise<void>;
  /** Writes one image with every tile in order, labelled, to `out` (JPEG). */
  contactSheet(tiles: readonly SheetTile[], out: string): Promise<void>;
}

export const STRIP_FRAMES = 5;
/** A sheet of this many tiles is already hard to read; beyond it the sheet shows the first ones. */
export const MAX_SHEET_TILES = 120;
const TILE = { width: 320, height: 180, band: 30 };
const SHEET_COLUMNS = 4;

/** Posters, strips and contact sheets, each ffmpeg run under `limits` (a thumbnail takes well under a second). */
export function createFrameMaker(ffmpeg: string, limits: Partial<MediaLimits> = {}): FrameMaker {
  const bounds: MediaLimits = { ...DEFAULT_MEDIA_LIMITS, timeoutMs: 60_000, ...limits };
  const font = findFont();
  const run = (args: string[]) => runMedia(ffmpeg, ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args], bounds);

  async function labelledTile(tile: SheetTile, out: string, scratch: string, n: number): Promise<void> {
    const { width, height, band } = TILE;
    const input = tile.poster ? ['-i', tile.poster] : ['-f', 'lavfi', '-i', `color=c=0x2b2b2b:s=${width}x${height}`];
    // Green band for a clip made, red for one that was not: the outcome reads even without a font.
    const filters = [
      `scale=${width}:${height}:force_original_aspect_ratio=decrease`,
      `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=0x2b2b2b`,
      `pad=${width}:${height + band}:0:0:color=${tile.ok ? '0x1e6b34' : '0x9b2226'}`,
    ];
    if (font) {
      // The label reaches drawtext as a file's contents, never as filter syntax.
      const textFile = path.join(scratch, `label_${n}.txt`);
      await writeFile(textFile, tile.label);
      filters.push(
        `drawtext=fontfile=${filterValue(font)}:textfile=${filterValue(textFile)}:expansion=none:x=8:y=${height + 7}:fontsize=16:fontcolor=white`,
      );
    }
    await run([...input, '-vf', filters.join(','), '-frames:v', '1', out]);
  }

  return {
    async posters(clip, durationS, out) {
      // A third of the way in: past any fade-in, well before the end.
      await run(['-ss', (durationS / 3).toFixed(3), '-i', clip, '-frames:v', '1', '-vf', 'scale=480:-2', '-q:v', '4', out.poster]);
      const rate = (STRIP_FRAMES / Math.max(durationS, 0.1)).toFixed(4);
      await run(['-i', clip, '-vf', `fps=${rate},scale=240:-2,tile=${STRIP_FRAMES}x1`, '-frames:v', '1', '-q:v', '5', out.strip]);
    },
    async contactSheet(tiles, out) {
      const shown = tiles.slice(0, MAX_SHEET_TILES);
      if (shown.length === 0) throw new Error('a contact sheet needs at least one tile');
      const scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-sheet-'));
      try {
        for (const [n, tile] of shown.entries())
          await labelledTile(tile, path.join(scratch, `tile_${String(n).padStart(4, '0')}.png`), scratch, n);
        const columns = Math.min(SHEET_COLUMNS, shown.length);
        const rows = Math.ceil(shown.length / columns);
        await run([
          '-framerate',
          '1',
          '-i',
          path.join(scratch, 'tile_%04d.png'),
          '-vf',
          `tile=${columns}x${rows}:padding=6:margin=6:color=0x111111`,
          '-frames:v',
          '1',
          '-q:v',
          '4',
          out,
        ]);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}
