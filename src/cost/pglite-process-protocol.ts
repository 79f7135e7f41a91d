/** What the worker and its tracker process say to each other over the IPC channel. */
import type { CostTracker } from './tracker.js';

type Methods = Pick<CostTracker, 'record' | 'getTotalCost' | 'entries'>;

export type TrackerRequest = {
  [M in keyof Methods]: { id: number; method: M; args: Parameters<Methods[M]> };
}[keyof Methods];

export type TrackerReply =
  | { ready: true }
  | { failed: string }
  | { id: number; ok: true; value: unknown }
  // An Error survives the channel's structured clone with its class (RangeError, TypeError) and message.
  | { id: number; ok: false; error: Error };
