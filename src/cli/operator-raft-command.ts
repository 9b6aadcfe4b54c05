import type { Command } from 'commander';
import type { RaftServer } from '../server/backend.js';
import { type ApiFlags, apiAction, clientFor, withApiFlags, withNamespaceFlag } from './api-command.js';
import { formatTable } from './table.js';

interface RaftConfiguration {
  readonly Index: number;
  readonly Servers: readonly RaftServer[];
}

interface PeerFlags extends ApiFlags {
  readonly peerId?: string;
  readonly peerAddress?: string;
}

/** Registers `operator raft list-peers`, `remove-peer` and `transfer-leadership` under `operator`. */
export function registerOperatorRaftCommands(operator: Command): void {
  const raft = operator
    .command('raft')
    .description('inspect and change the Raft configuration of the servers');

  raftCommand(raft, 'list-peers')
    .description('list the servers of the Raft configuration')
    .option('--stale', 'read from the agent that serves the request, even without a leader', false)
    .action(
      apiAction(async (flags: ApiFlags & { stale?: boolean }) => {
        const { body } = await clientFor(flags).get<RaftConfiguration>('/v1/operator/raft/configuration', {
          stale: flags.stale === true,
        });
        const rows = body.Servers.map((server) => [
          server.Node,
          server.ID,
          server.Address,
          server.Leader ? 'leader' : 'follower',
          String(server.Voter),
          server.RaftProtocol,
        ]);
        process.stdout.write(formatTable(['Node', 'ID', 'Address', 'State', 'Voter', 'RaftProtocol'], rows));
      }),
    );

  raftCommand(raft, 'remove-peer')
    .description('remove a server from the Raft configuration')
    .option('--peer-id <id>', 'Raft ID of the server to remove, as list-peers shows it (default: none)')
    .option(
      '--peer-address <host:port>',
      'RPC address of the server to remove, instead of -peer-id (default: none)',
    )
    .action(
      apiAction(async (flags: PeerFlags) => {
        const peer = peerQuery(flags);
        if (peer === null)
          throw new Error('Missing peer: set -peer-id (see operator raft list-peers) or -peer-address');
        await clientFor(flags).delete('/v1/operator/raft/peer', peer);
        process.stdout.write(`Removed peer ${describePeer(peer)} from the Raft configuration\n`);
      }),
    );

  raftCommand(raft, 'transfer-leadership')
    .description('move leadership to another server (by default, the most up-to-date voter)')
    .option('--peer-id <id>', 'Raft ID of the server that should lead (default: the most up-to-date voter)')
    .option(
      '--peer-address <host:port>',
      'RPC address of the server that should lead, instead of -peer-id (default: the most up-to-date voter)',
    )
    .action(
      apiAction(async (flags: PeerFlags) => {
        const peer = peerQuery(flags);
        await clientFor(flags).put('/v1/operator/raft/transfer-leadership', undefined, peer ?? {});
        const target = peer === null ? 'the most up-to-date voter' : `peer ${describePeer(peer)}`;
        process.stdout.write(`Transferred leadership to ${target}\n`);
      }),
    );
}

/** Adds a raft subcommand with the API flags and an ignored -namespace. */
function raftCommand(raft: Command, name: string): Command {
  return withNamespaceFlag(
    withApiFlags(raft.command(name)),
    'the Raft configuration belongs to no namespace',
  );
}

type PeerQuery = { id: string } | { address: string };

function peerQuery(flags: PeerFlags): PeerQuery | null {
  if (flags.peerId !== undefined && flags.peerAddress !== undefined) {
    throw new Error('Invalid flags: set -peer-id or -peer-address, not both');
  }
  if (flags.peerId !== undefined) return { id: flags.peerId };
  if (flags.peerAddress !== undefined) return { address: flags.peerAddress };
  return null;
}

function describePeer(peer: PeerQuery): string {
  return 'id' in peer ? `with ID ${peer.id}` : `at ${peer.address}`;
}
