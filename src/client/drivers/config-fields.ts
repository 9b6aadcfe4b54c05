import { parseGoDuration } from '../../structs/go-duration.js';
import { DriverError } from './driver.js';

type Config = Readonly<Record<string, unknown>>;

/**
 * Reads and checks the fields of a task's driver `config` block. Every problem is a DriverError
 * with code INVALID_CONFIG that names the field, so the task runner can report it as a Driver
 * Failure event.
 */
export class ConfigReader {
  readonly #driver: string;
  readonly #config: Config;

  /** Throws when `config` is not an object or has a field outside `allowed`. */
  constructor(driver: string, config: unknown, allowed: readonly string[]) {
    this.#driver = driver;
    if (config === null || config === undefined) {
      this.#config = {};
      return;
    }
    if (typeof config !== 'object' || Array.isArray(config)) {
      throw this.#invalid('config', `invalid ${driver} config: expected an object, got ${describe(config)}`);
    }
    this.#config = config as Config;
    for (const field of Object.keys(this.#config)) {
      if (!allowed.includes(field)) {
        throw this.#invalid(
          field,
          `invalid ${driver} config: unknown field "${field}" (known fields: ${allowed.join(', ')})`,
        );
      }
    }
  }

  /** Reads a string field; throws when it is not a string, or is missing or empty while required. */
  string(field: string, required: true): string;
  string(field: string, required: false): string | undefined;
  string(field: string, required: boolean): string | undefined {
    const value = this.#config[field];
    if (value === undefined || value === null) {
      if (required)
        throw this.#invalid(field, `invalid ${this.#driver} config: missing required field "${field}"`);
      return undefined;
    }
    if (typeof value !== 'string') {
      throw this.#invalid(
        field,
        `invalid ${this.#driver} config: "${field}" must be a string, got ${describe(value)}`,
      );
    }
    if (required && value === '') {
      throw this.#invalid(field, `invalid ${this.#driver} config: "${field}" must not be empty`);
    }
    return value;
  }

  /** Reads a list of strings; returns [] when the field is missing. */
  stringList(field: string): string[] {
    const value = this.#config[field];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      throw this.#invalid(
        field,
        `invalid ${this.#driver} config: "${field}" must be a list of strings, got ${describe(value)}`,
      );
    }
    return value.map((item: unknown, index) => {
      if (typeof item !== 'string') {
        throw this.#invalid(
          field,
          `invalid ${this.#driver} config: "${field}[${index}]" must be a string, got ${describe(item)}`,
        );
      }
      return item;
    });
  }

  /** Reads an integer in [min, max]; returns `fallback` when the field is missing. */
  integer(field: string, min: number, max: number, fallback: number): number {
    const value = this.#config[field];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.#invalid(
        field,
        `invalid ${this.#driver} config: "${field}" must be an integer from ${min} to ${max}, got ${describe(value)}`,
      );
    }
    return value;
  }

  /** Reads a non-negative Go duration (`500ms`, `1m30s`, `0`) in milliseconds; returns `fallback` when missing. */
  duration(field: string, fallback: number): number {
    const value = this.#config[field];
    if (value === undefined || value === null) return fallback;
    const ms = typeof value === 'string' ? parseGoDuration(value) : null;
    if (ms === null || ms < 0) {
      throw this.#invalid(
        field,
        `invalid ${this.#driver} config: "${field}" must be a duration such as "30s" or "1m30s", got ${describe(value)}`,
      );
    }
    return ms;
  }

  #invalid(field: string, message: string): DriverError {
    return new DriverError('INVALID_CONFIG', this.#driver, message, field);
  }
}

/** Describes a config value for error messages; strings are quoted and cut at 40 characters. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
