#!/usr/bin/env node
import { Command } from 'commander';
import { generateClusterKey } from '../rpc/cluster-key.js';
import { SIGNET_VERSION } from '../version.js';

/** Builds the `signet` command tree. Later subsystems register their commands here. */
export function buildProgram(): Command {
  const program = new Command('signet');
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

  const operator = program.command('operator').description('cluster operator commands');
  operator
    .command('keygen')
    .description('print a new cluster key (32 random bytes in base64) for server.encrypt')
    .action(() => {
      process.stdout.write(`${generateClusterKey()}\n`);
    });

  return program;
}

await buildProgram().parseAsync(process.argv);
