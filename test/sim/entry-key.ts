import type { Entry, Membership } from '../../src/raft/types.js';

const decoder = new TextDecoder();
const keys = new WeakMap<Entry, string>();
const payloads = new WeakMap<Uint8Array, string>();

/** Decodes the payload of a command, which the workload wrote as UTF-8 text. */
export function commandText(data: Uint8Array): string {
  let text = payloads.get(data);
  if (text === undefined) {
    text = decoder.decode(data);
    payloads.set(data, text);
  }
  return text;
}

/**
 * Returns a string that identifies an entry's term and content, so two entries compare equal
 * exactly when they are the same entry. Cached per object because the same entry is checked many
 * times.
 */
export function entryKey(entry: Entry): string {
  let key = keys.get(entry);
  if (key !== undefined) return key;
  switch (entry.kind) {
    case 'noop':
      key = `${entry.term}/noop`;
      break;
    case 'command':
      key = `${entry.term}/command/${commandText(entry.data)}`;
      break;
    case 'config':
      key = `${entry.term}/config/${membershipKey(entry.membership)}`;
      break;
  }
  keys.set(entry, key);
  return key;
}

export function membershipKey(membership: Membership): string {
  return `voters=${membership.voters.join(',')};learners=${membership.learners.join(',')};removed=${membership.removed.join(',')}`;
}
