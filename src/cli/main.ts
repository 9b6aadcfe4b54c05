#!/usr/bin/env node
import { Command } from 'commander';
import { generateClusterKey } from '../rpc/cluster-key.js';
import { SIGNET_VERSION } from '../version.js';
import { registerAclCommands } from './acl-command.js';
import { registerAgentCommand } from './agent-command.js';
import { registerAllocCommands } from './alloc-command.js';
import { exitOnClosedStdout } from './closed-stdout.js';
import { configureErrorOutput } from './error-output.js';
import { registerEvalCommands } from './eval-command.js';
import { normalizeFlags } from './flags.js';
import { registerJobCommands } from './job-command.js';
import { registerNamespaceCommands } from './namespace-command.js';
import { registerNodeCommands } from './node-command.js';
import { registerOperatorKeyringCommands } from './operator-keyring-command.js';
import { registerOperatorRaftCommands } from './operator-raft-command.js';
import { registerOperatorRaftRecoverCommand } from './operator-raft-recover.js';
import { registerOperatorSnapshotCommands } from './operator-snapshot-command.js';
import { registerServerCommands } from './server-command.js';
import { registerVarCommands } from './var-command.js';

/** Builds the `signet` command tree. Later subsystems register their commands here. */
export function buildProgram(): Command {
  const program = configureErrorOutput(new Command('signet'));
  program
    .description('Signet: a Raft-replicated control plane with workload identity, modelled on Nomad')
    .version(SIGNET_VERSION, '-v, --version', 'print the Signet version')
    .showHelpAfterError();

  program
    .command('version')
    .description('print the Signet version')
    .action(() => {
      process.stdout.write(`Signet v${SIGNET_VERSION}\n`);
    });

  registerAgentCommand(program);

  const operator = program.command('operator').description('cluster operator commands');
  operator
    .command('keygen')
    .description('print a new cluster key (32 random bytes in base64) for server.encrypt')
    .action(() => {
      process.stdout.write(`${generateClusterKey()}\n`);
    });
  registerOperatorRaftCommands(operator);
  registerOperatorRaftRecoverCommand(operator);
  registerOperatorSnapshotCommands(operator);
  registerOperatorKeyringCommands(operator);

  registerServerCommands(program);
  registerNamespaceCommands(program);
  registerJobCommands(program);
  registerAllocCommands(program);
  registerNodeCommands(program);
  registerEvalCommands(program);
  registerAclCommands(program);
  registerVarCommands(program);

  return program;
}

exitOnClosedStdout();
// Nomad's flags have one dash (`-address=URL`); commander expects two for long options.
await buildProgram().parseAsync(normalizeFlags(process.argv.slice(2)), { from: 'user' });
