import type { IncomingMessage } from 'node:http';
import { RequestError } from '../server/request-error.js';
import { jsonErrorOffset } from './json-error-offset.js';

/**
 * Largest request body accepted, in bytes. Namespace and operator requests are a few hundred
 * bytes; 1 MiB leaves room for the job specifications of later endpoints.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads the whole request body and parses it as JSON. A body above `maxBytes` is rejected with 413
 * as soon as its declared length or its received bytes exceed the limit, and the rest is not
 * buffered. The server then closes the connection, because the unread bytes cannot be skipped.
 */
export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw bodyTooLarge(maxBytes);
  }

  const bytes = await readBytes(request, maxBytes);
  if (bytes.length === 0) {
    throw new RequestError(400, 'Missing request body: send a JSON object');
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RequestError(400, 'Invalid request body: it is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // JSON.parse's message may quote the body, which may contain secrets, so only a position is
    // reported.
    throw invalidJson(text);
  }
}

/**
 * Builds the 400 of a body that is not JSON. Positions count UTF-16 code units from 0, as
 * JSON.parse's do.
 */
function invalidJson(text: string): RequestError {
  const offset = jsonErrorOffset(text);
  // NOTE: a null offset means the scan accepted what JSON.parse rejected, which no known input does.
  if (offset === null) return new RequestError(400, 'Invalid JSON in request body');
  const problem = offset === text.length ? 'unexpected end' : 'unexpected character';
  return new RequestError(400, `Invalid JSON in request body: ${problem} at position ${offset}`);
}

function readBytes(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;

    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) {
        cleanup();
        // Stop reading; the connection is closed after the 413 reply.
        request.pause();
        reject(bodyTooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, received));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new RequestError(400, `Failed to read request body: ${err.message}`));
    };
    const onAborted = (): void => {
      cleanup();
      reject(new RequestError(400, 'Failed to read request body: the client closed the connection'));
    };

    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('aborted', onAborted);
  });
}

function bodyTooLarge(maxBytes: number): RequestError {
  return new RequestError(413, `Request body too large: the limit is ${maxBytes} bytes`);
}
