import type { Policy } from './policy.js';
import type { PolicyErrorCode } from './policy-error.js';
import type { PolicyParseMode } from './policy-fields.js';

/**
 * Messages between the main thread and the policy parser worker. Every field is structured-clone
 * friendly (strings, numbers, plain objects and arrays), so no class instance crosses threads.
 */

/** Main thread to worker: parse `rules` and reply with a response that carries the same `id`. */
export interface ParseRequest {
  readonly id: number;
  readonly rules: string;
  readonly mode: PolicyParseMode;
}

/** Worker to main thread. */
export type ParseResponse =
  /** Sent once, when the worker's modules have loaded and it takes requests. */
  | { readonly kind: 'ready' }
  | { readonly kind: 'parsed'; readonly id: number; readonly policy: Policy }
  /** The fields of the PolicyError that the synchronous parser throws for the same text. */
  | {
      readonly kind: 'rejected';
      readonly id: number;
      readonly code: PolicyErrorCode;
      readonly field: string;
      readonly value: string;
      readonly message: string;
    }
  /** The parser threw something other than a PolicyError. */
  | { readonly kind: 'failed'; readonly id: number; readonly message: string };
