import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { configureErrorOutput, singleDashFlags } from '../../src/cli/error-output.js';
import { normalizeFlags } from '../../src/cli/flags.js';
import { signet } from './support/run-signet.js';

/** Parses `args` as main.ts does, into a small command tree, and returns the error and its output. */
function parseError(args: string[]): { error: CommanderError; output: string } {
  let output = '';
  const program = configureErrorOutput(new Command('signet')).exitOverride();
  program.configureOutput({ writeErr: (text) => (output += text) });
  program.command('status').option('--json', 'print JSON').option('--address <url>', 'API address');
  try {
    program.parse(normalizeFlags(['status', ...args]), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return { error, output };
    throw error;
  }
  assert.fail(`parsing ${args.join(' ')} succeeded`);
}

describe('flag errors', () => {
  test('unknown flag and its suggestion use one dash', () => {
    const { error, output } = parseError(['-jsn']);
    assert.equal(error.code, 'commander.unknownOption');
    assert.match(output, /'-jsn'/);
    assert.match(output, /-json\?/);
    assert.doesNotMatch(output, /--/);
  });

  test('unknown flag is shown as typed', () => {
    const { error, output } = parseError(['-t:1:14:']);
    assert.equal(error.code, 'commander.unknownOption');
    assert.match(output, /'-t:1:14:'/);
    assert.doesNotMatch(output, /--/);
  });

  test('missing flag argument uses one dash', () => {
    const { error, output } = parseError(['-address']);
    assert.equal(error.code, 'commander.optionMissingArgument');
    assert.match(output, /'-address <url>'/);
    assert.doesNotMatch(output, /--/);
  });

  test('rewrite leaves non-flag dashes alone', () => {
    assert.equal(singleDashFlags('run it with -- -x, or a--b'), 'run it with -- -x, or a--b');
  });

  test('signet binary reports unknown flag with one dash', async () => {
    const result = await signet(['node', 'status', '-jsn']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: unknown option '-jsn'$/m);
    assert.match(result.stderr, /^\(Did you mean -json\?\)$/m);
  });
});
