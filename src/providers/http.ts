import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { ClipflowError, FailureType } from '../shared/failures.js';

/**
 * What the HTTP providers share: the answer of an API call mapped to a failure of the table,
 * Retry-After read and capped, secrets masked, outputs downloaded under a size cap.
 */

export type Operation = 'create' | 'get' | 'cancel' | 'upload' | 'download' | 'list';

/** Words providers use when they refuse a prompt, an image or an output for their content rules. */
export const CONTENT_POLICY = /nsfw|content[\s_-]*(?:policy|moderation|filter)|safety|flagged|sensitive content|\(E005\)/i;

/** Downloading an output gives up after this long. */
const DOWNLOAD_TIMEOUT_MS = 600_000;

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};

/** An API's HTTP error answer, as far as the mapping needs it. */
export interface HttpAnswer {
  status: number;
  retryAfter: string | null | undefined;
  /** The body as text (for the content-policy words and a body-only Retry-After). */
  text: string;
  /** What to quote in the message (already short). */
  detail: string;
}

export interface FailureContext {
  /** `runway`, `fal`: how messages name the API. */
  api: string;
  mask: (text: string) => string;
  maxRetryAfterS: number;
}

/**
 * An HTTP error answer → the failure of the table: 401/403 Auth, content words ContentRejected,
 * 429 RateLimited (after Retry-After, capped), 400/413/422 InvalidInput, 404 on get
 * PredictionNotFound and on create ModelUnavailable, 5xx and other transient codes ProviderFailed,
 * anything else ProviderRefused.
 */
export function failureForAnswer(operation: Operation, answer: HttpAnswer, ctx: FailureContext): ClipflowError {
  const { status } = answer;
  const detail = ctx.mask(answer.detail.slice(0, 500));
  const message = `${ctx.api} ${operation} failed: HTTP ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 401 || status === 403) return new ClipflowError(FailureType.Auth, message);
  if (status >= 400 && status < 500 && CONTENT_POLICY.test(answer.text)) return new ClipflowError(FailureType.ContentRejected, message);
  if (status === 429) {
    return new ClipflowError(FailureType.RateLimited, message, retryAfterFrom(answer.retryAfter, answer.text, ctx.maxRetryAfterS));
  }
  if (status === 400 || status === 413 || status === 422) return new ClipflowError(FailureType.InvalidInput, message);
  if (status === 404 && operation === 'get') return new ClipflowError(FailureType.PredictionNotFound, message);
  if (status === 404 && operation === 'create') return new ClipflowError(FailureType.ModelUnavailable, message);
  if (status >= 500 || status === 404 || status === 408 || status === 409 || status === 425) {
    const retryAfterMs = status >= 500 ? retryAfterFrom(answer.retryAfter, '', ctx.maxRetryAfterS) : undefined;
    return new ClipflowError(FailureType.ProviderFailed, message + ambiguity(operation, status), retryAfterMs);
  }
  // 402 (no credit) and other client errors: the same request fails the same way.
  return new ClipflowError(FailureType.ProviderRefused, message);
}

/** A request that got no answer (refused connection, timeout): retried, as it may go through next time. */
export function transportFailure(operation: Operation, err: unknown, ctx: Pick<FailureContext, 'api' | 'mask'>): ClipflowError {
  const detail = isTimeout(err) ? 'timed out' : `network error: ${describe(err)}`;
  return new ClipflowError(FailureType.ProviderFailed, ctx.mask(`${ctx.api} ${operation} failed: ${detail}${ambiguity(operation)}`));
}

function ambiguity(operation: Operation, status?: number): string {
  return operation === 'create' && (status === undefined || status >= 500) ? ' (the prediction may or may not have been created)' : '';
}

/** The body of an error answer: the text, and the fields of a JSON body worth quoting. */
export function answerDetail(body: unknown): { text: string; detail: string } {
  if (body === undefined || body === null) return { text: '', detail: '' };
  if (typeof body === 'string') {
    try {
      return { text: body, detail: answerDetail(JSON.parse(body)).detail || body };
    } catch {
      return { text: body, detail: body };
    }
  }
  const text = JSON.stringify(body);
  if (typeof body !== 'object') return { text, detail: text };
  const json = body as Record<string, unknown>;
  const detail = [json.title, json.detail, json.error, json.message, json.failure]
    .map((v) => (typeof v === 'string' ? v : v && typeof v === 'object' ? JSON.stringify(v) : undefined))
    .filter((v): v is string => Boolean(v))
    .join(': ');
  return { text, detail: detail || text };
}

/**
 * How long a 429 asks to wait, in ms, capped at maxRetryAfterS: the Retry-After header (seconds
 * or an HTTP date), else the body's "resets in ~Ns" or "retry_after": N.
 */
export function retryAfterFrom(
  header: string | null | undefined,
  body: string,
  maxRetryAfterS: number,
  now = Date.now(),
): number | undefined {
  let seconds: number | undefined;
  const value = header?.trim();
  if (value) {
    if (/^\d+(\.\d+)?$/.test(value)) seconds = Number(value);
    else {
      const date = Date.parse(value);
      if (!Number.isNaN(date)) seconds = Math.max(0, (date - now) / 1000);
    }
  }
  if (seconds === undefined) {
    const match = /resets?\s+in\s+~?\s*(\d+(?:\.\d+)?)\s*s/i.exec(body) ?? /"?retry[_-]after"?\s*[:=]\s*"?(\d+(?:\.\d+)?)/i.exec(body);
    if (match?.[1]) seconds = Number(match[1]);
  }
  if (seconds === undefined || !Number.isFinite(seconds)) return undefined;
  return Math.round(Math.min(seconds, maxRetryAfterS) * 1000);
}

/** Replaces the token (and any bearer or key credential) in text that may reach an error or a log. */
export function maskSecret(text: string, secret: string): string {
  // fal's scheme is `Key`, case-sensitive here so that the word "key" in prose stays readable.
  let masked = text.replace(/Bearer\s+[^\s"',;]+/gi, 'Bearer ****').replace(/\bKey\s+[^\s"',;]+/g, 'Key ****');
  if (secret.length >= 4) masked = masked.split(secret).join('****');
  return masked;
}

export function isTimeout(err: unknown): boolean {
  const name = (err as { name?: unknown })?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? ` (${String((cause as { code: unknown }).code)})` : '';
  return `${err.message}${code}`;
}

/** The prepared reference image as a File, with its type from its extension. */
export async function readImage(imagePath: string): Promise<File> {
  let bytes: Buffer;
  try {
    bytes = await readFile(imagePath);
  } catch (err) {
    throw new ClipflowError(FailureType.InvalidInput, `reference image ${imagePath} cannot be read: ${(err as Error).message}`);
  }
  const type = IMAGE_TYPES[path.extname(imagePath).toLowerCase()] ?? 'application/octet-stream';
  return new File([bytes], path.basename(imagePath), { type });
}

/**
 * Downloads a finished output to `destination` (through a temporary file), refusing more than
 * maxBytes. Output hosts are not the API: no credentials go there.
 */
export async function downloadOutput(
  transport: typeof fetch,
  url: string | undefined,
  destination: string,
  maxBytes: number,
  what: { api: string; id: string },
): Promise<void> {
  if (!url || !/^https?:\/\//i.test(url)) {
    throw new ClipflowError(FailureType.ProviderRefused, `prediction ${what.id} has no downloadable output`);
  }
  const temp = path.join(path.dirname(destination), `.${path.basename(destination)}.${randomUUID()}.download`);
  try {
    const response = await transport(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      throw new ClipflowError(
        retryable ? FailureType.ProviderFailed : FailureType.ProviderRefused,
        `${what.api} download of ${what.id} output failed: HTTP ${response.status}`,
      );
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw tooBig(what.id, declared, maxBytes);
    }
    if (!response.body) throw new ClipflowError(FailureType.ProviderFailed, `${what.api} output of ${what.id} has no body`);
    let received = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > maxBytes) callback(tooBig(what.id, received, maxBytes, true));
        else callback(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), cap, createWriteStream(temp));
    await rename(temp, destination);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

function tooBig(id: string, bytes: number, maxBytes: number, atLeast = false): ClipflowError {
  return new ClipflowError(
    FailureType.ProviderRefused,
    `output of ${id} is ${atLeast ? 'over ' : ''}${bytes} B, over the cap of ${maxBytes} B`,
  );
}

/** The first URL in a provider's output (a string, an array, or an object such as `{ video: { url } }`). */
export function firstUrl(output: unknown): string | undefined {
  if (typeof output === 'string') return /^https?:\/\//i.test(output) ? output : undefined;
  const values = Array.isArray(output) ? output : output && typeof output === 'object' ? Object.values(output) : [];
  for (const value of values) {
    const url = firstUrl(value);
    if (url) return url;
  }
  return undefined;
}
