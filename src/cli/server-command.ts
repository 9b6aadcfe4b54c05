import type { Command } from 'commander';
import type { AgentMember, RaftServer } from '../server/backend.js';
import {
  type ApiFlags,
  apiAction,
  clientFor,
  printJson,
  withApiFlags,
  withNamespaceFlag,
} from './api-command.js';
import { formatTable } from './table.js';

interface MembersResponse {
  readonly ServerName: string;
  readonly Members: readonly AgentMember[];
}

/** Registers `server members`. */
export function registerServerCommands(program: Command): void {
  const server = program.command('server').description('inspect the server agents');

  withNamespaceFlag(withApiFlags(server.command('members')), 'servers belong to no namespace')
    .description('list the servers that the agent knows, and which one leads')
    .option('--json', 'print the members as JSON', false)
    .action(
      apiAction(async (flags: ApiFlags & { json?: boolean }) => {
        const client = clientFor(flags);
        const { body } = await client.get<MembersResponse>('/v1/agent/members');
        if (flags.json === true) {
          printJson(body.Members);
          return;
        }
        // Leader and Raft version come from this agent's copy of the Raft configuration (a stale
        // read), matched by node name, so the command works while no leader is elected.
        const configuration = await client.get<{ Servers: readonly RaftServer[] }>(
          '/v1/operator/raft/configuration',
          {
            stale: true,
          },
        );
        const servers = configuration.body.Servers;
        const rows = body.Members.map((member) => {
          const raftServer = servers.find((candidate) => isSameServer(member, candidate));
          return [
            member.Name,
            member.Addr,
            String(member.Port),
            member.Status,
            String(raftServer?.Leader ?? false),
            raftServer?.RaftProtocol ?? member.Tags.raft_vsn ?? '',
            member.Tags.build ?? '',
          ];
        });
        process.stdout.write(
          formatTable(['Name', 'Address', 'Port', 'Status', 'Leader', 'Raft Version', 'Build'], rows),
        );
      }),
    );
}

function isSameServer(member: AgentMember, server: RaftServer): boolean {
  return member.Name === server.Node || `${member.Addr}:${member.Port}` === server.Address;
}
