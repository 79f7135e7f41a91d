/**
 * The longer chaos run, outside CI: `npm run chaos -- [--runs 10] [--seed 1] [--kills 20] [--clips 12]
 * [--save-histories DIR]`. Each run uses seed, seed+1, …; it stops at the first run that breaks a
 * promise and prints that seed, so the same schedule can be run again.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { runChaos } from './chaos.js';
import { quietRuntime } from './env.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    kills: { type: 'string', default: '20' },
    clips: { type: 'string', default: '12' },
    'save-histories': { type: 'string' },
  },
});
const runs = Number(values.runs);
const first = Number(values.seed);
quietRuntime();

let failed = 0;
for (let i = 0; i < runs; i++) {
  const seed = first + i;
  const outcome = await runChaos({ seed, kills: Number(values.kills), clips: Number(values.clips), restartServer: true });
  const problems: string[] = [];
  if (outcome.result.successfulClips !== outcome.result.totalClips)
    problems.push(`${outcome.result.successfulClips}/${outcome.result.totalClips} clips`);
  const twice = outcome.createsPerClip.flatMap((n, clip) => (n === 1 ? [] : [`clip ${clip}: ${n} creates`]));
  problems.push(...twice);
  if (outcome.costEntries.length !== outcome.result.totalClips) problems.push(`${outcome.costEntries.length} cost entries`);
  if (outcome.replayError) problems.push(`replay: ${String(outcome.replayError)}`);
  if (values['save-histories']) {
    await mkdir(values['save-histories'], { recursive: true });
    await writeFile(path.join(values['save-histories'], `chaos-seed-${seed}.history.json`), historyToJSON(outcome.history));
  }
  console.log(
    `seed ${seed}: ${problems.length === 0 ? 'ok' : `FAILED (${problems.join('; ')})`} · ${outcome.kills.length} kills ` +
      `(${outcome.kills.map((k) => k.strategy).join(', ')}) · server restarted: ${outcome.serverRestarted} · ` +
      `${outcome.history.events?.length ?? 0} events · ${outcome.seconds.toFixed(1)} s`,
  );
  if (problems.length > 0) {
    failed++;
    break;
  }
}
console.log(`chaos: ${failed === 0 ? runs : '?'} passed, ${failed} failed (seeds from ${first})`);
process.exit(failed === 0 ? 0 : 1);
