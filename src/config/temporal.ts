import { z } from 'zod';
import { TASK_QUEUE } from '../shared/names.js';
import { bool, int, text } from './env.js';
import { loadTemporalConnection, type TemporalConnection } from './connection.js';
import type { Env } from './env.js';

/** Where clipflow's jobs run: the connection (see connection.ts), the task queue, the dev server. */
export interface TemporalSettings extends TemporalConnection {
  taskQueue: string;
  /** The Temporal CLI that runs the dev server; otherwise scripts/provision-temporal.sh finds one. */
  cliPath?: string;
  uiPort: number;
  /** The Temporal Web UI that reports link to: TEMPORAL_UI_URL, else the dev server's on uiPort. */
  uiBaseUrl: string;
  /** Whether the namespace has (or gets) clipflow's search attributes. */
  searchAttributes: boolean;
}

export const temporalEnv = z.object({
  TEMPORAL_TASK_QUEUE: text.default(TASK_QUEUE),
  TEMPORAL_CLI_PATH: text.optional(),
  TEMPORAL_UI_PORT: int(1, 65535).default(8233),
  TEMPORAL_UI_URL: z.string().url().optional(),
  CLIPFLOW_SEARCH_ATTRIBUTES: bool.default(true),
});

export function temporalSettings(e: z.infer<typeof temporalEnv>, env: Env): TemporalSettings {
  return {
    ...loadTemporalConnection(env),
    ...(e.TEMPORAL_CLI_PATH ? { cliPath: e.TEMPORAL_CLI_PATH } : {}),
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    uiPort: e.TEMPORAL_UI_PORT,
    uiBaseUrl: (e.TEMPORAL_UI_URL ?? `http://localhost:${e.TEMPORAL_UI_PORT}`).replace(/\/+$/, ''),
    searchAttributes: e.CLIPFLOW_SEARCH_ATTRIBUTES,
  };
}
