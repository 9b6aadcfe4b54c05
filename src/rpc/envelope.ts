import { MAX_BATCH_FRAMES } from './one-way-batch.js';

/** An application frame: what the agent sends and receives, tagged by `kind`. */
export type Frame = { readonly kind: string } & Record<string, unknown>;

/** Application data that each side of a server connection sends right after the handshake. */
export interface Introduction {
  readonly [field: string]: unknown;
}

/**
 * Frames that the transport itself exchanges on a server connection. Application frames travel
 * inside them, so an application `kind` can never be mistaken for one of the transport's own.
 * `id` pairs a response with its request on the same connection.
 */
export type Envelope =
  | { readonly kind: 'handshake'; readonly step: unknown }
  | { readonly kind: 'introduction'; readonly introduction: Introduction }
  | { readonly kind: 'one-way'; readonly frame: Frame }
  /** One-way frames sent in the same turn, each still MessagePack-encoded, decoded one by one on arrival. */
  | { readonly kind: 'one-way-batch'; readonly frames: readonly Uint8Array[] }
  | { readonly kind: 'request'; readonly id: number; readonly frame: Frame }
  | { readonly kind: 'response'; readonly id: number; readonly frame: Frame }
  | { readonly kind: 'error-response'; readonly id: number; readonly message: string };

/**
 * Checks a decoded frame as a transport envelope. Returns the envelope or a reason to close the
 * connection. The handshake step is checked later, by the handshake functions.
 */
export function parseEnvelope(value: Frame): Envelope | string {
  switch (value.kind) {
    case 'handshake':
      return { kind: 'handshake', step: value.step };
    case 'introduction':
      return isMap(value.introduction)
        ? { kind: 'introduction', introduction: value.introduction }
        : 'malformed introduction: field introduction is not a map';
    case 'one-way':
      return isFrame(value.frame)
        ? { kind: 'one-way', frame: value.frame }
        : 'malformed one-way frame: field frame is not a map with a string kind';
    case 'one-way-batch':
      return Array.isArray(value.frames) &&
        value.frames.length > 0 &&
        value.frames.length <= MAX_BATCH_FRAMES &&
        value.frames.every((item) => item instanceof Uint8Array)
        ? { kind: 'one-way-batch', frames: value.frames as Uint8Array[] }
        : `malformed one-way-batch frame: field frames is not an array of 1 to ${MAX_BATCH_FRAMES} binary frames`;
    case 'request':
    case 'response': {
      if (!isRequestId(value.id)) return `malformed ${value.kind}: id is not a positive integer`;
      if (!isFrame(value.frame))
        return `malformed ${value.kind}: field frame is not a map with a string kind`;
      return { kind: value.kind, id: value.id, frame: value.frame };
    }
    case 'error-response': {
      if (!isRequestId(value.id)) return 'malformed error-response: id is not a positive integer';
      if (typeof value.message !== 'string') return 'malformed error-response: message is not a string';
      return { kind: 'error-response', id: value.id, message: value.message };
    }
    default:
      return `unknown frame kind ${JSON.stringify(value.kind.slice(0, 40))}`;
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function isFrame(value: unknown): value is Frame {
  return isMap(value) && typeof value.kind === 'string';
}

function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
