import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Cluster } from './cluster.js';
import { type CommandContext, runCommand } from './commands.js';
import { type Block, formatTranscript, parseTranscript } from './transcript.js';

export interface RunOptions {
  /** Rewrite the file with the observed output instead of comparing (only when every check passes). */
  readonly update: boolean;
  /** Print each command and its output to stderr as it runs, to follow a failing scenario. */
  readonly trace?: boolean;
}

/**
 * Runs one scenario file. A failing `check`, a broken invariant or a script mistake throws at once
 * and names the line. Otherwise the observed output is compared with the recorded transcript, or
 * written over it in update mode. In update mode a failing scenario gets the output of the commands
 * before the failure written, and keeps what is recorded from the failing command on.
 */
export function runScenario(path: string, options: RunOptions): void {
  const file = basename(path);
  const original = readFileSync(path, 'utf8');
  const transcript = parseTranscript(original, file);
  const context: CommandContext = { cluster: new Cluster(), lastError: null, verbose: true };
  const outputs: string[][] = [];

  for (const block of transcript.blocks) {
    let output: string[] = [];
    try {
      if (options.trace) process.stderr.write(`${block.command}\n`);
      output = runCommand(context, block.command);
      if (options.trace) process.stderr.write(`${output.join('\n')}\n\n`);
      context.cluster.invariants.afterCommand(context.cluster.servers.values());
    } catch (error) {
      if (options.update) {
        // Record what ran before the failure. The failing command and the rest keep their recorded
        // output, because for a known core bug that part is the hand-written correct behaviour.
        const recorded = transcript.blocks.slice(outputs.length).map((rest) => [...(rest.expected ?? [])]);
        const rewritten = formatTranscript(transcript, [...outputs, ...recorded]);
        if (rewritten !== original) writeFileSync(path, rewritten);
      }
      const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const drift = firstMismatch(transcript.blocks, outputs);
      const note =
        drift === null ? '' : `\n(the transcript already differed at line ${drift.line}: ${drift.command})`;
      throw new Error(`${file}:${block.line}: ${block.command}\n${cause}${note}`, { cause: error });
    }
    outputs.push(output);
  }

  if (options.update) {
    const rewritten = formatTranscript(transcript, outputs);
    if (rewritten !== original) writeFileSync(path, rewritten);
    return;
  }
  const drift = firstMismatch(transcript.blocks, outputs);
  if (drift !== null) {
    const index = transcript.blocks.indexOf(drift);
    assert.equal(
      outputs[index]!.join('\n'),
      (drift.expected ?? []).join('\n'),
      `${file}:${drift.line}: output of '${drift.command}' differs from the transcript ` +
        '(review the diff; UPDATE_TRANSCRIPTS=1 npm test -- scenarios rewrites it)',
    );
  }
}

function firstMismatch(blocks: readonly Block[], outputs: readonly (readonly string[])[]): Block | null {
  for (let k = 0; k < outputs.length; k++) {
    const expected = blocks[k]!.expected;
    if (expected === null || expected.join('\n') !== outputs[k]!.join('\n')) return blocks[k]!;
  }
  return null;
}
