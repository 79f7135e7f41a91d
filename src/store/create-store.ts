import type { ArtifactStore } from './artifact-store.js';
import { createLocalStore } from './local-store.js';
import { createS3Store, type S3StoreOptions } from './s3-store.js';

export type StoreChoice = { kind: 'local'; directory: string } | ({ kind: 's3' } & S3StoreOptions);

export function createStore(choice: StoreChoice): ArtifactStore {
  return choice.kind === 'local' ? createLocalStore(choice.directory) : createS3Store(choice);
}
