import { EvaluationFailure, TemplateRenderError, type TemplateRenderErrorCode } from './errors.js';
import type { FormatLimits } from './format-value.js';
import type { RenderLimits } from './limits.js';
import type { ParsedTemplate } from './parser.js';

interface Variable {
  readonly name: string;
  value: unknown;
}

/**
 * State shared by the executor and the evaluator during one render: the variable stack, the nesting
 * depth, the limits and the abort signal, and the way both report errors at a source offset.
 */
export class ExecutionContext {
  readonly template: ParsedTemplate;
  readonly limits: RenderLimits;
  readonly formatLimits: FormatLimits;
  readonly signal: AbortSignal | undefined;
  /**
   * Variables in scope, innermost last. A pipeline's declarations push here, and every block pops
   * back to its mark when it ends, which gives Go's scoping: a variable lives until the `{{end}}` of
   * the block that declared it.
   */
  readonly #vars: Variable[];
  #depth = 0;

  constructor(
    template: ParsedTemplate,
    root: unknown,
    limits: RenderLimits,
    signal: AbortSignal | undefined,
  ) {
    this.template = template;
    this.limits = limits;
    this.formatLimits = { maxBytes: limits.maxOutputBytes, maxDepth: limits.maxDepth };
    this.signal = signal;
    this.#vars = [{ name: '$', value: root }];
  }

  fail(
    offset: number,
    code: TemplateRenderErrorCode,
    reason: string,
    details: { functionName?: string; cause?: unknown } = {},
  ): never {
    const position = this.template.lines.positionAt(offset);
    throw new TemplateRenderError(code, this.template.name, position, reason, details);
  }

  /** Runs fn, turning an EvaluationFailure into a TemplateRenderError at the offset. */
  at<T>(offset: number, fn: () => T, prefix = ''): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof EvaluationFailure) this.fail(offset, error.code, prefix + error.message);
      throw error;
    }
  }

  checkAbort(offset: number): void {
    if (this.signal?.aborted) this.fail(offset, 'ABORTED', 'render aborted', { cause: this.signal.reason });
  }

  /** Enters a block or a parenthesized pipeline; fails past maxDepth. Pair with leave(). */
  enter(offset: number): void {
    if (this.#depth >= this.limits.maxDepth) {
      this.fail(
        offset,
        'DEPTH_LIMIT',
        `blocks and parentheses nest deeper than the limit of ${this.limits.maxDepth}`,
      );
    }
    this.#depth++;
  }

  leave(): void {
    this.#depth--;
  }

  /** Returns the height of the variable stack, which popTo restores. */
  mark(): number {
    return this.#vars.length;
  }

  popTo(mark: number): void {
    this.#vars.length = mark;
  }

  push(name: string, value: unknown): void {
    this.#vars.push({ name, value });
  }

  /** Sets the n-th variable from the top (1 is the top), as range does for the variables it declared. */
  setFromTop(n: number, value: unknown): void {
    this.#vars[this.#vars.length - n]!.value = value;
  }

  get(name: string, offset: number): unknown {
    return this.#lookup(name, offset).value;
  }

  /** Assigns to the innermost variable of that name, as `$x = value` does. */
  assign(name: string, value: unknown, offset: number): void {
    this.#lookup(name, offset).value = value;
  }

  #lookup(name: string, offset: number): Variable {
    for (let i = this.#vars.length - 1; i >= 0; i--) {
      const variable = this.#vars[i]!;
      if (variable.name === name) return variable;
    }
    // The parser accepted the name, but the block that declares it did not run, as in an else branch.
    return this.fail(offset, 'EXECUTION', `undefined variable: ${name}`);
  }
}
