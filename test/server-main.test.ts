/**
 * `npm run server` keeps serving until it is told to stop, then stops the dev server with it: by
 * Ctrl-C (SIGINT to the terminal's whole process group) and by SIGTERM (a supervisor, to it alone).
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { grpc } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { freePort, portFree } from '../src/dev-server/ports.js';
import { spawnTsx } from './support/tsx-process.js';
import { until } from './support/wait.js';

async function grpcServing(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    const { status } = await connection.healthService.check({});
    return status === grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
  } finally {
    await connection.close();
  }
}

describe('npm run server', () => {
  it.each([
    ['Ctrl-C', 'SIGINT', 'group'],
    ['SIGTERM', 'SIGTERM', 'process'],
  ] as const)('is still serving after 8 s, and %s stops it and its dev server', async (_name, signal, target) => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-server-'));
    const server = spawnTsx(
      'src/dev-server/server-main.ts',
      { ...process.env, CLIPFLOW_DATA_DIR: dataDir, TEMPORAL_UI_PORT: String(uiPort) },
      { captureOutput: true, ownGroup: true, args: ['--port', String(port)] },
    );
    try {
      await until(
        'the server to say it is up',
        () => server.stdout().includes('Ctrl-C stops it.') || server.child.exitCode !== null,
        120_000,
      );
      expect(server.stdout()).toContain(`Temporal dev server on 127.0.0.1:${port}; Web UI http://localhost:${uiPort}. Ctrl-C stops it.`);
      await sleep(8_000);

      expect(server.child.exitCode).toBeNull();
      expect(await grpcServing(`127.0.0.1:${port}`)).toBe(true);
      const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
      expect(ui.status).toBe(200);
      await ui.body?.cancel();

      if (target === 'group') process.kill(-server.pid, signal);
      else server.child.kill(signal);
      const exit = await Promise.race([server.exited, sleep(30_000).then(() => undefined)]);
      expect(exit, `still running 30 s after ${signal}:\n${server.output()}`).toMatchObject({ code: 0, signal: null });
      // In order; the dev server (same terminal, same process group) may print its own line between.
      const out = server.stdout();
      const stopping = out.indexOf(`${signal}: stopping the dev server\n`);
      expect(stopping, out).toBeGreaterThanOrEqual(0);
      expect(out.indexOf('stopped\n', stopping), out).toBeGreaterThan(stopping);
      // The dev server went with it: nothing listens on its ports any more.
      expect(await portFree(port)).toBe(true);
      expect(await portFree(uiPort)).toBe(true);
    } finally {
      await server.kill();
    }
  });
});
