/**
 * What a clip's content check found, as it travels from the activity to the workflow and the
 * report. Workflow-safe: plain data and the words for it.
 */

/** black / frozen: a stretch of the clip; decode-errors: the decoder complained; truncated: decoding ended early. */
export type FindingKind = 'black' | 'frozen' | 'decode-errors' | 'truncated';

export interface ContentFinding {
  kind: FindingKind;
  /** Where in the clip, in seconds, for the kinds that have a place. */
  startS?: number;
  endS?: number;
  /** One line saying what was found, with its values. */
  detail: string;
}

/** The outcome of decoding a clip to its end and looking at every frame. */
export interface ContentCheckResult {
  decodedFrames: number;
  decodedS: number;
  decodeErrors: number;
  /** Empty when the clip passed. */
  findings: ContentFinding[];
}

/** One generation of a clip that failed: what the report shows under "attempts". */
export interface AttemptRecord {
  generation: number;
  model: string;
  errorType: string;
  message: string;
  findings?: ContentFinding[];
}

/** How long an attempt's message may be in the records that travel with a clip. */
export const MAX_ATTEMPT_MESSAGE_CHARS = 400;

const s = (seconds: number) => `${seconds.toFixed(2)} s`;

/** `black from 0.50 s to 1.50 s (1.00 s)`. */
export function stretchDetail(kind: 'black' | 'frozen', startS: number, endS: number): string {
  return `${kind} from ${s(startS)} to ${s(endS)} (${s(endS - startS)})`;
}

export function describeFindings(findings: readonly ContentFinding[]): string {
  return findings.map((f) => f.detail).join('; ');
}
