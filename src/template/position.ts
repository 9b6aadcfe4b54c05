/** A place in a template's source: 1-based line, and 1-based column counted in Unicode code points. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Maps UTF-16 offsets in a template's source to lines and columns. */
export class LineIndex {
  readonly #source: string;
  /** Offsets at which each line starts; the first line starts at 0. */
  readonly #lineStarts: number[] = [0];

  constructor(source: string) {
    this.#source = source;
    for (let i = 0; i < source.length; i++) {
      if (source.charCodeAt(i) === 0x0a) this.#lineStarts.push(i + 1);
    }
  }

  positionAt(offset: number): SourcePosition {
    const clamped = Math.max(0, Math.min(offset, this.#source.length));
    let low = 0;
    let high = this.#lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#lineStarts[middle]! <= clamped) low = middle;
      else high = middle - 1;
    }
    const lineStart = this.#lineStarts[low]!;
    let column = 1;
    for (const _ of this.#source.slice(lineStart, clamped)) column++;
    return { line: low + 1, column };
  }
}
