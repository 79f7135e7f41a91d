/**
 * Where a job's artifacts live (reference images, clips, the report), so that any worker on any
 * machine can take the next activity: activities hand each other the URIs this returns, never a
 * path on their own disk. Two implementations: a local directory (the embedded default) and
 * S3-compatible object storage.
 */
export interface ArtifactStore {
  /** The store's root, for logs and messages: `file:///…/outputs` or `s3://bucket/prefix`. */
  readonly root: string;
  /** Stores a local file under `key` (e.g. `job-1/clip_000.mp4`) and returns its URI. */
  putFile(key: string, file: string, contentType: string): Promise<string>;
  /** Stores text under `key` and returns its URI. */
  putText(key: string, text: string, contentType: string): Promise<string>;
  /** The text of an artifact. */
  getText(uri: string): Promise<string>;
  /** Copies an artifact into a local file (for a tool or a provider client that reads files). */
  download(uri: string, file: string): Promise<void>;
  /** The URI of `key`, whether or not it exists yet. */
  uriOf(key: string): string;
  /** The artifact's path on this machine, when the store is a local directory. */
  pathOf(uri: string): string | undefined;
  close(): Promise<void>;
}
