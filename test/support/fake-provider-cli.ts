import type { TaskBook } from './fake-tasks.js';

/**
 * Runs a fake provider API until SIGINT/SIGTERM, printing its URL, for trying a worker against it
 * by hand (`npm run fake-replicate`, `fake-runway`, `fake-fal`). Port: argv[2] or `<PREFIX>_PORT`.
 */
export async function runFakeCli(
  name: string,
  defaultPort: number,
  /** Starts the fake; its summary (what it saw) is printed as it closes. */
  start: (port: number) => Promise<{ url: string; close(): Promise<void>; summary(): string }>,
): Promise<void> {
  const variable = `FAKE_${name.toUpperCase()}_PORT`;
  const port = Number(process.argv[2] ?? process.env[variable] ?? defaultPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port: ${process.argv[2] ?? process.env[variable]}`);
    process.exit(2);
  }
  const fake = await start(port);
  console.log(fake.url);
  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      console.error(`fake ${name}: ${signal}, ${fake.summary()}; closing`);
      fake.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

export function describeBook(book: TaskBook): string {
  return `${book.acceptedCreates().length} tasks created, ${book.cancels.length} cancels, at most ${book.maxInFlight} in flight`;
}
