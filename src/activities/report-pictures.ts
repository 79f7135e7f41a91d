import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SheetTile } from '../media/frames.js';
import type { ReportInput } from '../shared/activity-io.js';
import { ruleFor } from '../shared/failures.js';
import type { Clip } from '../shared/model.js';
import { contactSheetKey } from '../store/keys.js';
import type { ActivityDeps } from './deps.js';

/** A clip's poster and strip as `data:` URIs, so report.html shows them with nothing beside it. */
export interface EmbeddedPictures {
  poster?: string;
  strip?: string;
}

export interface ReportPictures {
  /** Each made clip's poster as a file on this machine. */
  posters: Map<number, string>;
  dataUris(): Promise<Map<number, EmbeddedPictures>>;
}

/**
 * The clips' posters and strips as files this activity can read: the store's own files when it is
 * a directory, else copies in `scratch`. A picture that cannot be had is left out, not fatal.
 */
export async function reportPictures(store: ActivityDeps['store'], clips: readonly Clip[], scratch: string): Promise<ReportPictures> {
  const local = async (uri: string | undefined, name: string) => {
    if (!uri) return undefined;
    const own = store.pathOf(uri);
    if (own) return own;
    const file = path.join(scratch, name);
    return store.download(uri, file).then(
      () => file,
      () => undefined,
    );
  };
  const posters = new Map<number, string>();
  const strips = new Map<number, string>();
  for (const clip of clips) {
    const poster = await local(clip.posterUri, `poster_${clip.clipIndex}.jpg`);
    const strip = await local(clip.stripUri, `strip_${clip.clipIndex}.jpg`);
    if (poster) posters.set(clip.clipIndex, poster);
    if (strip) strips.set(clip.clipIndex, strip);
  }
  const dataUri = (file: string | undefined) =>
    file
      ? readFile(file).then(
          (bytes) => `data:image/jpeg;base64,${bytes.toString('base64')}`,
          () => undefined,
        )
      : undefined;
  return {
    posters,
    async dataUris() {
      const embedded = new Map<number, EmbeddedPictures>();
      for (const clip of clips) {
        const [poster, strip] = await Promise.all([dataUri(posters.get(clip.clipIndex)), dataUri(strips.get(clip.clipIndex))]);
        embedded.set(clip.clipIndex, { ...(poster ? { poster } : {}), ...(strip ? { strip } : {}) });
      }
      return embedded;
    },
  };
}

/** One image of every clip's poster (a blank tile for a clip not made), its index and outcome; its store URI. */
export async function makeContactSheet(
  { store, frames }: Pick<ActivityDeps, 'store' | 'frames'>,
  input: Pick<ReportInput, 'jobId' | 'clipPrompts' | 'clips' | 'failures'>,
  pictures: Pick<ReportPictures, 'posters'>,
  scratch: string,
): Promise<string> {
  const made = new Set(input.clips.map((c) => c.clipIndex));
  const failures = new Map(input.failures.map((f) => [f.clipIndex, f]));
  const tiles: SheetTile[] = input.clipPrompts.map(({ clipIndex }) => {
    const poster = pictures.posters.get(clipIndex);
    const failure = failures.get(clipIndex);
    const outcome = made.has(clipIndex) ? 'ok' : failure ? ruleFor(failure.errorType).label : 'not run';
    return { ...(poster ? { poster } : {}), label: `clip ${clipIndex} · ${outcome}`, ok: made.has(clipIndex) };
  });
  const file = path.join(scratch, 'contact_sheet.jpg');
  await frames.contactSheet(tiles, file);
  return store.putFile(contactSheetKey(input.jobId), file, 'image/jpeg');
}
