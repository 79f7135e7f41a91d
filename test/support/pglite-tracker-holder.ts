/** A process that opens the embedded cost tracker on argv[2], records one entry, says so, and waits to be killed. */
import { createCostTracker } from '../../src/cost/create-tracker.js';
import type { MicroUsd } from '../../src/shared/money.js';

const tracker = await createCostTracker({ dataDir: process.argv[2]! });
await tracker.record({ jobId: 'holder', stage: 'video', clipIndex: 0, key: 'a', amountMicroUsd: 7 as MicroUsd });
process.stdout.write('recorded\n');
setInterval(() => undefined, 60_000);
