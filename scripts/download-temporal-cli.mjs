// The Temporal SDK's download of the official Temporal CLI, into a directory: prints the binary's
// path. Run by src/dev-server/temporal-cli.ts in a process of its own, so that a download stuck on
// a network that drops packets can be stopped.
//
//   node scripts/download-temporal-cli.mjs DIR VERSION
//
// The SDK downloads only on its way to starting a dev server, so one is started and stopped.
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';

const [dir, version] = process.argv.slice(2);
if (!dir || !version) {
  console.error('usage: node scripts/download-temporal-cli.mjs DIR VERSION');
  process.exit(2);
}
try {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir: dir, version }, log: { format: 'pretty', level: 'error' } },
  });
  await env.teardown();
} catch (err) {
  // The SDK repeats the request's URL in each layer of its message; the innermost cause says why.
  console.error(
    String(err?.message ?? err)
      .split(': ')
      .slice(-3)
      .join(': '),
  );
  process.exit(1);
}
console.log(path.join(dir, `temporal-${version}`));
