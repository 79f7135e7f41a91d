import type { BatchResultsInput } from '../shared/activity-io.js';
import { batchResultsKey } from '../store/keys.js';
import type { ActivityDeps } from './deps.js';

/** Stores one part of a batch's clips and failures; the job's report is merged from these parts. */
export function createWriteBatchResults({ store }: Pick<ActivityDeps, 'store'>) {
  return async function writeBatchResults({ jobId, batch, part, clips, failures }: BatchResultsInput): Promise<string> {
    return store.putText(batchResultsKey(jobId, batch, part), JSON.stringify({ clips, failures }), 'application/json');
  };
}
