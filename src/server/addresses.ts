import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * The address other servers use to reach this one. A wildcard bind address cannot be dialled, so
 * it is replaced, as Nomad does without an `advertise` block, by the first private IPv4 address
 * of this host, or 127.0.0.1 when there is none.
 */
export function advertiseAddress(bindAddr: string): string {
  if (bindAddr !== '0.0.0.0' && bindAddr !== '::') return isIP(bindAddr) === 6 ? `[${bindAddr}]` : bindAddr;
  // TODO: an `advertise { rpc http }` block, for hosts whose first address is not the reachable one.
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

/**
 * Returns a retry_join entry as `host:port`, with the default RPC port when it names only a host. The
 * configuration accepts IPv6 hosts only in brackets, so a trailing `:digits` is always a port.
 */
export function joinAddress(entry: string, defaultPort: number): string {
  return /:\d+$/.test(entry) ? entry : `${entry}:${defaultPort}`;
}
