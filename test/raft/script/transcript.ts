/**
 * The file format of a scenario: comment lines (`#`), blank lines, and commands, each followed by
 * a `----` line and the output it is expected to print, which ends at the next blank line.
 * Outputs never contain blank lines, so no further quoting is needed.
 */

export const SEPARATOR = '----';

/** One command with the comments above it and the output recorded under it. */
export interface Block {
  /** Comment lines directly above the command, without blank lines. */
  readonly comments: readonly string[];
  readonly command: string;
  /** 1-based line number of the command in the file. */
  readonly line: number;
  /** Recorded output, or null when the command has no `----` section yet. */
  readonly expected: readonly string[] | null;
}

export interface Transcript {
  readonly blocks: readonly Block[];
  /** Comment lines after the last command. */
  readonly trailer: readonly string[];
}

export function parseTranscript(text: string, file: string): Transcript {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let comments: string[] = [];
  let at = 0;
  while (at < lines.length) {
    const line = lines[at]!;
    if (line.trim() === '') {
      at++;
      continue;
    }
    if (line.startsWith('#')) {
      comments.push(line);
      at++;
      continue;
    }
    if (line === SEPARATOR) {
      throw new Error(`${file}:${at + 1}: '${SEPARATOR}' without a command above it`);
    }
    const commandLine = at + 1;
    at++;
    let expected: string[] | null = null;
    if (at < lines.length && lines[at] === SEPARATOR) {
      expected = [];
      at++;
      while (at < lines.length && lines[at]!.trim() !== '') {
        expected.push(lines[at]!);
        at++;
      }
    }
    blocks.push({ comments, command: line.trim(), line: commandLine, expected });
    comments = [];
  }
  return { blocks, trailer: comments };
}

/** Writes a transcript back with `outputs[i]` under block i, one blank line between blocks. */
export function formatTranscript(transcript: Transcript, outputs: readonly (readonly string[])[]): string {
  const parts: string[] = [];
  transcript.blocks.forEach((block, i) => {
    const lines = [...block.comments, block.command, SEPARATOR, ...(outputs[i] ?? [])];
    parts.push(lines.join('\n'));
  });
  if (transcript.trailer.length > 0) parts.push(transcript.trailer.join('\n'));
  return `${parts.join('\n\n')}\n`;
}
