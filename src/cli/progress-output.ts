/** Destination of progress output: stdout, or a stand-in in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** ANSI: carriage return, then erase the whole line. */
const CLEAR_LINE = '\r\u001b[2K';

/**
 * Output of a command that reports progress. Permanent lines go through `line`, and a status that
 * changes in place goes through `update`. On a terminal the status is redrawn on the last line
 * with a carriage return. Elsewhere (a pipe, a file, CI) each new status is one plain line,
 * printed only when it differs from the previous one, so logs get one line per change and no
 * control characters.
 */
export class ProgressOutput {
  readonly #stream: ProgressStream;
  /** Whether `update` redraws one line in place; false when the output is not a terminal. */
  readonly redraws: boolean;
  /** The status shown now: on a terminal the text of the last line, otherwise the last one printed. */
  #status: string | null = null;

  constructor(stream: ProgressStream) {
    this.#stream = stream;
    this.redraws = stream.isTTY === true;
  }

  /** Prints a permanent line above the status line. */
  line(text: string): void {
    if (!this.redraws) {
      this.#stream.write(`${text}\n`);
      return;
    }
    const status = this.#status;
    this.#stream.write(`${status === null ? '' : CLEAR_LINE}${text}\n${status ?? ''}`);
  }

  /** Shows `text` as the current status. */
  update(text: string): void {
    if (text === this.#status) return;
    this.#stream.write(this.redraws ? `${CLEAR_LINE}${text}` : `${text}\n`);
    this.#status = text;
  }

  /** Removes the status line from a terminal; permanent lines stay. Call it before the final lines. */
  finish(): void {
    if (this.redraws && this.#status !== null) this.#stream.write(CLEAR_LINE);
    this.#status = null;
  }
}
