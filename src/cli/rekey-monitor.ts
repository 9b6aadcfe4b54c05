import { type ApiClient, ApiError } from '../http/client.js';
import type { RootKeyListEntry } from '../http/routes/keyring.js';
import { shortId } from './display.js';
import type { ProgressOutput } from './progress-output.js';

const KEYS_PATH = '/v1/operator/keyring/keys';

/**
 * Maximum wait of one blocking read of the key list. The list wakes only when a key changes
 * state, but the counts of re-encrypted variables move with every rekey entry, so the monitor
 * reads again after this wait to show them.
 */
const COUNT_REFRESH_WAIT = '1s';

export interface RekeyMonitorOptions {
  readonly verbose: boolean;
  readonly output: ProgressOutput;
  /** Stops following; the leader goes on with the rekey. */
  readonly signal?: AbortSignal;
}

/** Outcome of the rekey monitor. */
export interface RekeyOutcome {
  /** True when `signal` stopped the monitor while a key was still rekeying. */
  readonly stopped: boolean;
  /** The last line of progress, such as `key "5724857a": 20 variables left`. */
  readonly progress: string;
}

/**
 * Follows a full rotation: while a key is `rekeying`, the leader re-encrypts its variables under
 * the active key and then marks it `inactive`. Prints, for each rekeying key, the number of
 * variables still encrypted under it (`EncryptedVariables` of the key list) whenever it changes,
 * and a line when the key becomes inactive or is removed. Returns once no key that was rekeying at
 * the start still is, or when `signal` stops it. Throws ApiError when a read fails.
 */
export async function monitorRekey(client: ApiClient, options: RekeyMonitorOptions): Promise<RekeyOutcome> {
  const { output } = options;
  const requestOptions = options.signal === undefined ? {} : { signal: options.signal };
  const keyName = (keyId: string): string => `key "${shortId(keyId, options.verbose)}"`;

  let response = await client.get<RootKeyListEntry[]>(KEYS_PATH, {}, requestOptions);
  const rekeying = response.body.filter((key) => key.State === 'rekeying').map((key) => key.KeyID);
  if (rekeying.length === 0) {
    output.line('    No older key to re-encrypt');
    return { stopped: false, progress: '' };
  }
  output.line(
    `==> Re-encrypting the variables of ${rekeying.length} rekeying key${rekeying.length === 1 ? '' : 's'} under the new key`,
  );
  output.line(
    '    The leader starts at its next keyring pass, within server.root_key_gc_interval (10m by default)',
  );

  const pending = new Set(rekeying);
  let progress = '';
  for (;;) {
    const keys = new Map(response.body.map((key) => [key.KeyID, key]));
    for (const keyId of [...pending]) {
      const key = keys.get(keyId);
      if (key === undefined || key.State !== 'rekeying') {
        pending.delete(keyId);
        output.line(`    ${keyName(keyId)} ${key === undefined ? 'was removed' : `is ${key.State}`}`);
      }
    }
    if (pending.size === 0) break;

    progress = [...pending]
      .map((keyId) => `${keyName(keyId)}: ${countText(keys.get(keyId)!.EncryptedVariables)} left`)
      .join(', ');
    output.update(`    ${progress}`);

    try {
      const query = { index: String(response.index ?? 0), wait: COUNT_REFRESH_WAIT };
      response = await client.get<RootKeyListEntry[]>(KEYS_PATH, query, requestOptions);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'ABORTED') {
        output.finish();
        return { stopped: true, progress };
      }
      throw err;
    }
  }
  output.finish();
  return { stopped: false, progress: '' };
}

function countText(count: number | undefined): string {
  // A server without the Signet-only field, such as Nomad, gives no count.
  if (count === undefined) return 'an unknown number of variables';
  return `${count} variable${count === 1 ? '' : 's'}`;
}
