import { z } from 'zod';
import { describeIssues } from '../shared/model.js';

/** The environment as loadConfig reads it: process.env in the entry points, a plain record in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

export const ENVIRONMENTS = ['development', 'production'] as const;
/** CLIPFLOW_ENV: picks the provider, model and budget defaults. */
export type Environment = (typeof ENVIRONMENTS)[number];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A one-line error that names the setting: "invalid configuration: <setting>: <what is wrong>". */
export function invalid(setting: string, problem: string): ConfigError {
  return new ConfigError(`invalid configuration: ${setting}: ${problem}`);
}

export const bool = z.enum(['1', '0', 'true', 'false', 'yes', 'no']).transform((v) => v === '1' || v === 'true' || v === 'yes');
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export const positive = (max: number) => z.coerce.number().positive().max(max);
export const text = z.string().min(1);

/** Runs a parser over one variable's value, turning its failure into a ConfigError naming the variable. */
export function parseOr<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const detail = err instanceof z.ZodError ? describeIssues(err.issues).message : (err as Error).message;
    throw invalid(variable, detail);
  }
}
