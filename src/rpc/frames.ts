import { Packr } from 'msgpackr';

/**
 * Largest frame accepted on a server connection, in bytes. It covers the largest append
 * (maxAppendBytes, 1 MiB by default) and snapshot chunk (512 KiB) with room for their headers.
 */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

// Plain MessagePack maps: every frame decodes on its own, with no structure table shared between
// frames that a reconnect or a restarted peer would lack. 64-bit integers stay BigInts, so a
// value beyond 2^53 fails validation instead of silently losing precision.
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export type DecodedFrame =
  | { readonly ok: true; readonly frame: { readonly kind: string } & Record<string, unknown> }
  | { readonly ok: false; readonly reason: string };

/** Encodes a frame. Throws when it would exceed `maxBytes`, which the receiver would reject anyway. */
export function encodeFrame(
  frame: { readonly kind: string; readonly [field: string]: unknown },
  maxBytes = DEFAULT_MAX_FRAME_BYTES,
): Buffer {
  const bytes = packr.pack(frame);
  if (bytes.length > maxBytes) {
    throw new Error(`frame of kind ${frame.kind} is ${bytes.length} bytes, above the limit of ${maxBytes}`);
  }
  return bytes;
}

/**
 * Decodes one frame received from a peer. Never throws (a fuzz test checks this): a bad frame
 * yields a reason, which the caller logs before it closes that connection. The size is checked
 * before any decoding.
 */
export function decodeFrame(bytes: Uint8Array, maxBytes = DEFAULT_MAX_FRAME_BYTES): DecodedFrame {
  if (bytes.length > maxBytes) {
    return { ok: false, reason: `frame of ${bytes.length} bytes is above the limit of ${maxBytes}` };
  }
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (err) {
    return { ok: false, reason: `malformed frame: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'malformed frame: expected a map' };
  }
  const kind = (value as Record<string, unknown>).kind;
  if (typeof kind !== 'string')
    return { ok: false, reason: 'malformed frame: field kind is missing or not a string' };
  return { ok: true, frame: value as { kind: string } & Record<string, unknown> };
}
