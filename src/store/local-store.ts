import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ArtifactStore } from './artifact-store.js';

/**
 * A directory on this machine as the artifact store: `npm start` needs no server. Workers on
 * other machines cannot read it, so it suits one machine (or a directory they all mount).
 */
export function createLocalStore(directory: string): ArtifactStore {
  const base = path.resolve(directory);
  const root = pathToFileURL(base).href;

  const fileOf = (key: string) => {
    const file = path.resolve(base, key);
    if (!file.startsWith(base + path.sep)) throw new Error(`store key ${JSON.stringify(key)} leaves ${base}`);
    return file;
  };
  const pathOf = (uri: string) => {
    if (!uri.startsWith(`${root}/`)) return undefined;
    const file = fileURLToPath(uri);
    return file.startsWith(base + path.sep) ? file : undefined;
  };
  const existing = (uri: string) => {
    const file = pathOf(uri);
    if (!file) throw new Error(`${uri} is not in the local store ${root}`);
    return file;
  };
  /** Written beside its final name, then renamed: a reader never sees half a file. */
  async function place(key: string, write: (temp: string) => Promise<void>): Promise<string> {
    const file = fileOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomUUID()}.tmp`;
    try {
      await write(temp);
      await rename(temp, file);
    } finally {
      await rm(temp, { force: true });
    }
    return pathToFileURL(file).href;
  }

  return {
    root,
    putFile: (key, file) => place(key, (temp) => copyFile(file, temp)),
    putText: (key, text) => place(key, (temp) => writeFile(temp, text)),
    getText: async (uri) => readFile(existing(uri), 'utf8'),
    download: async (uri, file) => copyFile(existing(uri), file),
    uriOf: (key) => pathToFileURL(fileOf(key)).href,
    pathOf,
    close: async () => undefined,
  };
}
