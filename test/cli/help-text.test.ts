import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { registerAclCommands } from '../../src/cli/acl-command.js';
import { registerAllocCommands } from '../../src/cli/alloc-command.js';
import { registerEvalCommands } from '../../src/cli/eval-command.js';
import { registerJobCommands } from '../../src/cli/job-command.js';
import { registerNamespaceCommands } from '../../src/cli/namespace-command.js';
import { registerNodeCommands } from '../../src/cli/node-command.js';
import { registerOperatorKeyringCommands } from '../../src/cli/operator-keyring-command.js';
import { registerOperatorRaftCommands } from '../../src/cli/operator-raft-command.js';
import { registerServerCommands } from '../../src/cli/server-command.js';
import { registerVarCommands } from '../../src/cli/var-command.js';

/** The API commands, registered as main.ts registers them, without running the program. */
function apiCommands(): Map<string, Command> {
  const program = new Command('signet');
  const operator = program.command('operator');
  registerOperatorRaftCommands(operator);
  registerOperatorKeyringCommands(operator);
  for (const register of [
    registerServerCommands,
    registerNamespaceCommands,
    registerJobCommands,
    registerAllocCommands,
    registerNodeCommands,
    registerEvalCommands,
    registerAclCommands,
    registerVarCommands,
  ]) {
    register(program);
  }
  const leaves = new Map<string, Command>();
  const walk = (command: Command, path: string[]): void => {
    if (command.commands.length === 0) leaves.set(path.join(' '), command);
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return leaves;
}

/** Nomad's `-t` commands (and the var commands' `-template`), as this CLI offers them. */
const TEMPLATE_COMMANDS = [
  'job status',
  'alloc status',
  'node status',
  'eval status',
  'acl token list',
  'acl token info',
  'acl token self',
  'acl policy list',
  'acl policy info',
  'var get',
  'var list',
  'namespace list',
  'namespace status',
  'operator root keyring list',
];

describe('help text', () => {
  const commands = apiCommands();

  test('every flag states its default', () => {
    const missing: string[] = [];
    for (const [path, command] of commands) {
      for (const option of command.options) {
        const stated = option.defaultValue !== undefined || /\(default: [^)]+\)/.test(option.description);
        if (!stated) missing.push(`${path} ${option.flags}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('every API command takes address, token and namespace', () => {
    for (const [path, command] of commands) {
      const names = command.options.map((option) => option.long);
      for (const flag of ['--address', '--token', '--namespace']) {
        assert.ok(names.includes(flag), `${path} lacks ${flag}`);
      }
    }
  });

  test('template commands take -t', () => {
    for (const path of TEMPLATE_COMMANDS) {
      const command = commands.get(path);
      assert.ok(command !== undefined, path);
      assert.ok(
        command.options.some((option) => option.short === '-t'),
        `${path} lacks -t`,
      );
    }
  });
});
