import type { Command } from 'commander';
import { type AclTokenJson, formatToken, formatTokenList } from './acl-format.js';
import { type ApiFlags, apiAction, clientFor, printJson, withApiFlags } from './api-command.js';

type JsonFlags = ApiFlags & { json?: boolean };
type CreateFlags = JsonFlags & {
  name?: string;
  type: string;
  global?: boolean;
  policy: string[];
  ttl?: string;
};
type UpdateFlags = JsonFlags & { name?: string; type?: string; policy: string[] };

/** Registers `acl token create`, `list`, `info`, `self`, `update` and `delete` under `acl`. */
export function registerAclTokenCommands(acl: Command): void {
  const token = acl.command('token').description('create, list, show, update and delete ACL tokens');

  withApiFlags(token.command('create'))
    .description('create an ACL token (needs a management token)')
    .option('--name <name>', 'human-readable name of the token')
    .option('--type <type>', 'client or management', 'client')
    .option('--global', 'mark the token global (replicated to every region)')
    .option('--policy <name>', 'policy of a client token; repeat for several', collect, [])
    .option('--ttl <duration>', 'lifetime of the token, such as 1h (from 1m to 24h)')
    .option('--json', 'print the token as JSON')
    .action(
      apiAction(async (flags: CreateFlags) => {
        const body = {
          Name: flags.name ?? '',
          Type: flags.type,
          Policies: flags.policy,
          Global: flags.global === true,
          ...(flags.ttl === undefined ? {} : { ExpirationTTL: flags.ttl }),
        };
        const { body: created } = await clientFor(flags).put<AclTokenJson>('/v1/acl/token', body);
        printToken(created, flags);
      }),
    );

  withApiFlags(token.command('list'))
    .description('list the ACL tokens, without their secrets (needs a management token)')
    .option('--json', 'print the tokens as JSON')
    .action(
      apiAction(async (flags: JsonFlags) => {
        const { body } = await clientFor(flags).get<AclTokenJson[]>('/v1/acl/tokens');
        if (flags.json === true) printJson(body);
        else if (body.length === 0) process.stdout.write('No tokens found\n');
        else process.stdout.write(formatTokenList(body, Date.now()));
      }),
    );

  withApiFlags(token.command('info'))
    .description('show an ACL token (needs a management token, or the token itself)')
    .argument('<accessor-id>', 'AccessorID of the token')
    .option('--json', 'print the token as JSON')
    .action(
      apiAction(async (accessorId: string, flags: JsonFlags) => {
        const { body } = await clientFor(flags).get<AclTokenJson>(tokenPath(accessorId));
        printToken(body, flags);
      }),
    );

  withApiFlags(token.command('self'))
    .description('show the ACL token given with -token or SIGNET_TOKEN')
    .option('--json', 'print the token as JSON')
    .action(
      apiAction(async (flags: JsonFlags) => {
        const { body } = await clientFor(flags).get<AclTokenJson>('/v1/acl/token/self');
        printToken(body, flags);
      }),
    );

  withApiFlags(token.command('update'))
    .description('change the name, type or policies of an ACL token (needs a management token)')
    .argument('<accessor-id>', 'AccessorID of the token')
    .option('--name <name>', 'new name')
    .option('--type <type>', 'new type: client or management')
    .option('--policy <name>', 'replaces the policies; repeat for several', collect, [])
    .option('--json', 'print the token as JSON')
    .action(
      apiAction(async (accessorId: string, flags: UpdateFlags) => {
        const client = clientFor(flags);
        // As in Nomad, fields without a flag keep their current value.
        const { body: current } = await client.get<AclTokenJson>(tokenPath(accessorId));
        const type = flags.type ?? current.Type;
        // A token turned into a management token drops its policies, which management tokens cannot have.
        let policies = flags.policy;
        if (policies.length === 0 && type !== 'management') policies = [...current.Policies];
        const body = {
          AccessorID: accessorId,
          Name: flags.name ?? current.Name,
          Type: type,
          Policies: policies,
        };
        const { body: updated } = await client.request<AclTokenJson>('POST', tokenPath(accessorId), {}, body);
        printToken(updated, flags);
      }),
    );

  withApiFlags(token.command('delete'))
    .description('delete an ACL token (needs a management token)')
    .argument('<accessor-id>', 'AccessorID of the token')
    .action(
      apiAction(async (accessorId: string, flags: ApiFlags) => {
        await clientFor(flags).delete(tokenPath(accessorId));
        process.stdout.write(`Token ${accessorId} successfully deleted\n`);
      }),
    );
}

function printToken(token: AclTokenJson, flags: JsonFlags): void {
  if (flags.json === true) printJson(token);
  else process.stdout.write(formatToken(token));
}

function tokenPath(accessorId: string): string {
  return `/v1/acl/token/${encodeURIComponent(accessorId)}`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
