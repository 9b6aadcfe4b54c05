import type { Command } from 'commander';
import type { JobAcl } from '../acl/index.js';
import { ACL_NAMESPACE_IGNORED, type AclPolicyJson, formatPolicy } from './acl-format.js';
import { type ApiFlags, apiAction, clientFor, withApiFlags, withNamespaceFlag } from './api-command.js';
import { readInputFile } from './input-file.js';
import { type OutputFlags, outputChoice, printOutput, withOutputFlags } from './output-flags.js';
import { formatTable } from './table.js';

type JsonFlags = ApiFlags & OutputFlags;

/** Flags of `acl policy apply`. `namespace` is the JobACL's, not the request's namespace. */
interface ApplyFlags extends ApiFlags {
  readonly description?: string;
  readonly namespace?: string;
  readonly job?: string;
  readonly group?: string;
  readonly task?: string;
}

/** Registers `acl policy apply`, `info`, `list` and `delete` under `acl`. */
export function registerAclPolicyCommands(acl: Command): void {
  const policy = acl.command('policy').description('write, show, list and delete ACL policies');

  withApiFlags(policy.command('apply'))
    .description('create or replace an ACL policy from a rules file (needs a management token)')
    .argument('<name>', 'policy name: letters, digits and dashes, up to 128 characters')
    .argument('<path>', 'file with the rules in HCL or JSON, or - for stdin')
    .option('--description <text>', 'human-readable description, at most 256 bytes (default: empty)')
    .option(
      '--namespace <name>',
      'tie the policy to the workloads of this namespace; SIGNET_NAMESPACE and NOMAD_NAMESPACE do not set it (default: not tied)',
    )
    .option('--job <id>', 'tie the policy to this job of -namespace (default: every job)')
    .option('--group <name>', 'tie the policy to this task group of -job (default: every group)')
    .option('--task <name>', 'tie the policy to this task of -group (default: every task)')
    .action(
      apiAction(async (name: string, path: string, flags: ApplyFlags) => {
        const jobAcl = jobAclFromFlags(flags);
        const rules = await readInputFile(path, 'the policy rules');
        const body = { Name: name, Description: flags.description ?? '', Rules: rules, JobACL: jobAcl };
        await clientFor(flags).put(policyPath(name), body);
        process.stdout.write(`Successfully wrote "${name}" ACL policy!\n`);
      }),
    );

  withOutputFlags(withNamespaceFlag(withApiFlags(policy.command('info')), ACL_NAMESPACE_IGNORED), 'policy')
    .description('show an ACL policy and its rules')
    .argument('<name>', 'policy name')
    .action(
      apiAction(async (name: string, flags: JsonFlags) => {
        const output = outputChoice(flags);
        const { body } = await clientFor(flags).get<AclPolicyJson>(policyPath(name));
        await printOutput(output, body, () => formatPolicy(body));
      }),
    );

  withOutputFlags(withNamespaceFlag(withApiFlags(policy.command('list')), ACL_NAMESPACE_IGNORED), 'policies')
    .description('list the ACL policies the token may read (all of them for a management token)')
    .action(
      apiAction(async (flags: JsonFlags) => {
        const output = outputChoice(flags);
        const { body } = await clientFor(flags).get<AclPolicyJson[]>('/v1/acl/policies');
        await printOutput(output, body, () =>
          body.length === 0
            ? 'No policies found\n'
            : formatTable(
                ['Name', 'Description'],
                body.map((entry) => [entry.Name, entry.Description]),
              ),
        );
      }),
    );

  withNamespaceFlag(withApiFlags(policy.command('delete')), ACL_NAMESPACE_IGNORED)
    .description('delete an ACL policy (needs a management token)')
    .argument('<name>', 'policy name')
    .action(
      apiAction(async (name: string, flags: ApiFlags) => {
        await clientFor(flags).delete(policyPath(name));
        process.stdout.write(`Successfully deleted "${name}" ACL policy!\n`);
      }),
    );
}

/**
 * Builds the JobACL from the flags, with Nomad's rules. Only an explicit `-namespace` makes one:
 * SIGNET_NAMESPACE and NOMAD_NAMESPACE are ignored, so a policy is never tied to a workload by an
 * environment variable.
 */
function jobAclFromFlags(flags: ApplyFlags): JobAcl | null {
  const isSet = (value: string | undefined): value is string => value !== undefined && value !== '';
  if (isSet(flags.job) && !isSet(flags.namespace)) throw new Error('-namespace is required if -job is set');
  if (isSet(flags.group) && !isSet(flags.job)) throw new Error('-job is required if -group is set');
  if (isSet(flags.task) && !isSet(flags.group)) throw new Error('-group is required if -task is set');
  if (!isSet(flags.namespace)) return null;
  return {
    Namespace: flags.namespace,
    JobID: flags.job ?? '',
    Group: flags.group ?? '',
    Task: flags.task ?? '',
  };
}

function policyPath(name: string): string {
  return `/v1/acl/policy/${encodeURIComponent(name)}`;
}
