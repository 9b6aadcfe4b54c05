import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { httpRequest } from './http-client.js';
import type { ServerHandle } from './server-handle.js';
import { readTokenFile, writeTokenFile } from './token-file.js';

/** File in the cluster root with the management token's secret, owner-only. */
export const TOKEN_FILE = 'bootstrap-token';

/**
 * Returns the management token of the cluster in `root`, bootstrapping the ACLs when they are not.
 *
 * The secret is chosen here and written durably to `<root>/bootstrap-token` (0600) before the
 * bootstrap request is sent with it as BootstrapSecret. So a request whose reply was lost, or a
 * launcher that died half-way (even through a power loss), leaves a token that the file still
 * names. A later start of a kept cluster then reads the file instead of bootstrapping again. Raises when the ACLs were bootstrapped
 * with another secret than the file's, when the file contains no valid secret (TokenFileError), when
 * no leader accepts the bootstrap before the deadline, or at once when `signal` aborts.
 */
export async function ensureManagementToken(
  root: string,
  leader: () => Promise<ServerHandle>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  const file = join(root, TOKEN_FILE);
  let secret = await readTokenFile(file);
  if (secret === null) {
    secret = randomUUID();
    await writeTokenFile(file, secret);
  }

  const deadline = performance.now() + timeoutMs;
  let alreadyDone = 0;
  let lastStatus = 'no attempt finished';
  for (;;) {
    signal?.throwIfAborted();
    try {
      await bootstrapOnce(await leader(), secret);
      return secret;
    } catch (err) {
      if (!(err instanceof BootstrapRejectedError)) {
        lastStatus = `error: ${(err as Error).message}`;
      } else if (err.alreadyDone && ++alreadyDone >= 2) {
        // The first "already done" may follow a bootstrap of ours whose reply was lost, and the
        // next token check clears it up. A second one means another secret won.
        throw new BootstrapTakenError(file);
      } else {
        lastStatus = err.message;
      }
    }
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for the ACL bootstrap; last attempt: ${lastStatus}`,
      );
    }
    await delay(200, undefined, { signal });
  }
}

/** Resolves once `secret` is a working token: it already was, or the bootstrap made it. */
async function bootstrapOnce(server: ServerHandle, secret: string): Promise<void> {
  const self = await httpRequest(server.httpAddr, 'GET', '/v1/acl/token/self', {
    headers: { 'X-Nomad-Token': secret },
  });
  if (self.status === 200) return;
  const reply = await httpRequest(server.httpAddr, 'POST', '/v1/acl/bootstrap', {
    body: { BootstrapSecret: secret },
  });
  if (reply.status !== 200) throw new BootstrapRejectedError(reply.status, reply.body);
}

/**
 * Start of the error text that a server returns with status 400 once the ACLs are bootstrapped.
 * Signet returns `ACL bootstrap already done (reset index: N)`, as Nomad does.
 */
const ALREADY_DONE_PREFIX = 'ACL bootstrap already done';

/**
 * Returns true when a reply of /v1/acl/bootstrap means that the ACLs were bootstrapped already.
 * NOTE: the endpoint returns this error as plain text only, with no code or field to check, and
 * no endpoint reports the bootstrap status. So this checks the status and the text's fixed start,
 * which the other 400 replies (ACLs disabled, invalid secret, invalid reset index) do not share.
 */
export function bootstrapAlreadyDone(status: number, body: string): boolean {
  return status === 400 && body.startsWith(ALREADY_DONE_PREFIX);
}

class BootstrapRejectedError extends Error {
  readonly alreadyDone: boolean;

  constructor(status: number, body: string) {
    super(`the bootstrap returned ${status}: ${body.slice(0, 200)}`);
    this.alreadyDone = bootstrapAlreadyDone(status, body);
  }
}

/** Raised when the cluster's ACLs were bootstrapped with a secret that the token file does not name. */
export class BootstrapTakenError extends Error {
  override readonly name = 'BootstrapTakenError';
  readonly code = 'BOOTSTRAP_TAKEN';

  constructor(file: string) {
    super(
      `the cluster's ACLs were bootstrapped with another token than the one in ${file}; put that token's secret in the file, or start in a new folder`,
    );
  }
}
