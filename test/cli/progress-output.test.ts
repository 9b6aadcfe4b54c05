import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProgressOutput } from '../../src/cli/progress-output.js';

function recorder(isTTY: boolean): {
  stream: { isTTY: boolean; write(text: string): void };
  text: () => string;
} {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (text: string) => chunks.push(text) }, text: () => chunks.join('') };
}

describe('progress output', () => {
  test('pipe gets one line per change', () => {
    const { stream, text } = recorder(false);
    const output = new ProgressOutput(stream);
    output.update('3 left');
    output.update('3 left');
    output.line('event');
    output.update('2 left');
    output.finish();
    assert.equal(output.redraws, false);
    assert.equal(text(), '3 left\nevent\n2 left\n');
  });

  test('terminal redraws the status line', () => {
    const { stream, text } = recorder(true);
    const output = new ProgressOutput(stream);
    output.update('3 left');
    output.line('event');
    output.update('2 left');
    output.finish();
    output.line('done');
    const clear = '\r\u001b[2K';
    assert.equal(text(), `${clear}3 left${clear}event\n3 left${clear}2 left${clear}done\n`);
  });
});
