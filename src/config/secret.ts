import { inspect } from 'node:util';

/**
 * A credential that stays out of logs, JSON and console output: only `reveal()` gives the value.
 * It also wraps key material (TLS options holding a private key), hence the type parameter.
 */
export class Secret<T = string> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  reveal(): T {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
