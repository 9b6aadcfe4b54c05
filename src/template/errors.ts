import type { SourcePosition } from './position.js';

/** Codes of template parse failures, which callers switch on. */
export type TemplateSyntaxErrorCode =
  /** The text is not valid Go text/template syntax. */
  | 'SYNTAX'
  /** Valid Go syntax that this engine does not implement, such as `{{define}}` or a character constant. */
  | 'UNSUPPORTED'
  /** Blocks and parenthesized pipelines nest deeper than the parse limit. */
  | 'DEPTH_LIMIT';

/** Codes of template render failures, which callers switch on. */
export type TemplateRenderErrorCode =
  /** The template calls a function that is neither a builtin nor supplied by the caller. */
  | 'UNDEFINED_FUNCTION'
  /** A function supplied by the caller threw or rejected. `cause` is what it threw. */
  | 'FUNCTION_FAILED'
  /** Go's execution rules reject the operation: a wrong type, a nil value, a bad index, a wrong argument count. */
  | 'EXECUTION'
  /** The operation is valid in Go but not implemented here, such as a printf verb or a builtin like `html`. */
  | 'UNSUPPORTED'
  /** The output, or a string that a builtin produces, would exceed `maxOutputBytes`. */
  | 'OUTPUT_LIMIT'
  /** The range iterations of one render would exceed `maxRangeIterations`. */
  | 'RANGE_LIMIT'
  /** Blocks, parenthesized pipelines or a printed value nest deeper than `maxDepth`. */
  | 'DEPTH_LIMIT'
  /** The caller's abort signal fired. */
  | 'ABORTED';

/**
 * A template that cannot be parsed. The message reads `template: NAME:LINE:COLUMN: REASON`, the shape
 * of Go's messages with a column added.
 */
export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
  readonly code: TemplateSyntaxErrorCode;
  readonly templateName: string;
  readonly line: number;
  readonly column: number;
  /** The message without the `template: NAME:LINE:COLUMN: ` prefix. */
  readonly reason: string;

  constructor(code: TemplateSyntaxErrorCode, templateName: string, position: SourcePosition, reason: string) {
    super(`template: ${templateName}:${position.line}:${position.column}: ${reason}`);
    this.code = code;
    this.templateName = templateName;
    this.line = position.line;
    this.column = position.column;
    this.reason = reason;
  }
}

/**
 * A render that failed. The position is that of the action, field or function call being evaluated.
 * Nothing of the partial output is returned.
 */
export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
  readonly code: TemplateRenderErrorCode;
  readonly templateName: string;
  readonly line: number;
  readonly column: number;
  /** The function whose call failed, or '' when the failure is not a call. */
  readonly functionName: string;
  /** The message without the `template: NAME:LINE:COLUMN: ` prefix. */
  readonly reason: string;

  constructor(
    code: TemplateRenderErrorCode,
    templateName: string,
    position: SourcePosition,
    reason: string,
    details: { functionName?: string; cause?: unknown } = {},
  ) {
    super(
      `template: ${templateName}:${position.line}:${position.column}: ${reason}`,
      'cause' in details ? { cause: details.cause } : undefined,
    );
    this.code = code;
    this.templateName = templateName;
    this.line = position.line;
    this.column = position.column;
    this.functionName = details.functionName ?? '';
    this.reason = reason;
  }
}

/**
 * A failure raised by code that does not know the template position (builtins, value formatting). The
 * executor catches it and throws a TemplateRenderError at the node being evaluated.
 */
export class EvaluationFailure extends Error {
  override readonly name = 'EvaluationFailure';
  readonly code: TemplateRenderErrorCode;

  constructor(code: TemplateRenderErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
