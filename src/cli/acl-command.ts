import type { Command } from 'commander';
import { ACL_NAMESPACE_IGNORED, type AclTokenJson, formatToken } from './acl-format.js';
import { registerAclPolicyCommands } from './acl-policy-command.js';
import { registerAclTokenCommands } from './acl-token-command.js';
import { type ApiFlags, apiAction, clientFor, withApiFlags, withNamespaceFlag } from './api-command.js';
import { readInputFile } from './input-file.js';
import { type OutputFlags, outputChoice, printOutput, withOutputFlags } from './output-flags.js';

/** Registers `acl bootstrap` and the `acl token` and `acl policy` commands. */
export function registerAclCommands(program: Command): void {
  const acl = program.command('acl').description('bootstrap ACLs and manage ACL tokens and policies');

  withOutputFlags(withNamespaceFlag(withApiFlags(acl.command('bootstrap')), ACL_NAMESPACE_IGNORED), 'token')
    .description('create the initial management token; works once, unless reset')
    .argument(
      '[path]',
      'file (or - for stdin) that holds the SecretID to use, a UUID (default: a random one)',
    )
    .action(
      apiAction(async (path: string | undefined, flags: ApiFlags & OutputFlags) => {
        const output = outputChoice(flags);
        const body = path === undefined ? undefined : { BootstrapSecret: await readSecret(path) };
        const { body: token } = await clientFor(flags).put<AclTokenJson>('/v1/acl/bootstrap', body);
        await printOutput(output, token, () => formatToken(token));
      }),
    );

  registerAclTokenCommands(acl);
  registerAclPolicyCommands(acl);
}

async function readSecret(path: string): Promise<string> {
  const secret = (await readInputFile(path, 'the bootstrap secret')).trim();
  if (secret === '') throw new Error(`the bootstrap secret file ${path} is empty: write a UUID into it`);
  return secret;
}
