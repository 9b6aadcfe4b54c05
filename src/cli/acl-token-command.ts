import { type Command, Option } from 'commander';
import { ACL_NAMESPACE_IGNORED, type AclTokenJson, formatToken, formatTokenList } from './acl-format.js';
import { type ApiFlags, apiAction, clientFor, withApiFlags, withNamespaceFlag } from './api-command.js';
import { type OutputFlags, outputChoice, printOutput, withOutputFlags } from './output-flags.js';

type JsonFlags = ApiFlags & OutputFlags;
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

  tokenCommand(token, 'create')
    .description('create an ACL token (needs a management token)')
    .option('--name <name>', 'human-readable name of the token (default: empty)')
    .option('--type <type>', 'client or management', 'client')
    .option('--global', 'mark the token global (replicated to every region)', false)
    .addOption(
      new Option('--policy <name>', 'policy of a client token; repeat for several')
        .default([], 'none')
        .argParser(collect),
    )
    .option('--ttl <duration>', 'lifetime of the token, such as 1h, from 1m to 24h (default: no expiry)')
    .action(
      apiAction(async (flags: CreateFlags) => {
        const output = outputChoice(flags);
        const body = {
          Name: flags.name ?? '',
          Type: flags.type,
          Policies: flags.policy,
          Global: flags.global === true,
          ...(flags.ttl === undefined ? {} : { ExpirationTTL: flags.ttl }),
        };
        const { body: created } = await clientFor(flags).put<AclTokenJson>('/v1/acl/token', body);
        await printOutput(output, created, () => formatToken(created));
      }),
    );

  tokenCommand(token, 'list', 'tokens')
    .description('list the ACL tokens, without their secrets (needs a management token)')
    .action(
      apiAction(async (flags: JsonFlags) => {
        const output = outputChoice(flags);
        const { body } = await clientFor(flags).get<AclTokenJson[]>('/v1/acl/tokens');
        await printOutput(output, body, () =>
          body.length === 0 ? 'No tokens found\n' : formatTokenList(body, Date.now()),
        );
      }),
    );

  tokenCommand(token, 'info')
    .description('show an ACL token (needs a management token, or the token itself)')
    .argument('<accessor-id>', 'AccessorID of the token')
    .action(
      apiAction(async (accessorId: string, flags: JsonFlags) => {
        const output = outputChoice(flags);
        const { body } = await clientFor(flags).get<AclTokenJson>(tokenPath(accessorId));
        await printOutput(output, body, () => formatToken(body));
      }),
    );

  tokenCommand(token, 'self')
    .description('show the ACL token given with -token, SIGNET_TOKEN or NOMAD_TOKEN')
    .action(
      apiAction(async (flags: JsonFlags) => {
        const output = outputChoice(flags);
        const { body } = await clientFor(flags).get<AclTokenJson>('/v1/acl/token/self');
        await printOutput(output, body, () => formatToken(body));
      }),
    );

  tokenCommand(token, 'update')
    .description('change the name, type or policies of an ACL token (needs a management token)')
    .argument('<accessor-id>', 'AccessorID of the token')
    .option('--name <name>', 'new name (default: unchanged)')
    .option('--type <type>', 'new type: client or management (default: unchanged)')
    .addOption(
      new Option('--policy <name>', 'replaces the policies; repeat for several')
        .default([], 'unchanged')
        .argParser(collect),
    )
    .action(
      apiAction(async (accessorId: string, flags: UpdateFlags) => {
        const output = outputChoice(flags);
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
        await printOutput(output, updated, () => formatToken(updated));
      }),
    );

  withNamespaceFlag(withApiFlags(token.command('delete')), ACL_NAMESPACE_IGNORED)
    .description('delete an ACL token (needs a management token)')
    .argument('<accessor-id>', 'AccessorID of the token')
    .action(
      apiAction(async (accessorId: string, flags: ApiFlags) => {
        await clientFor(flags).delete(tokenPath(accessorId));
        process.stdout.write(`Token ${accessorId} successfully deleted\n`);
      }),
    );
}

/** Adds a token subcommand with the API flags, an ignored -namespace, -json and -t. */
function tokenCommand(token: Command, name: string, noun = 'token'): Command {
  return withOutputFlags(withNamespaceFlag(withApiFlags(token.command(name)), ACL_NAMESPACE_IGNORED), noun);
}

function tokenPath(accessorId: string): string {
  return `/v1/acl/token/${encodeURIComponent(accessorId)}`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
