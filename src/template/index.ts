export type {
  ActionNode,
  BoolNode,
  BreakNode,
  ChainNode,
  CommandNode,
  ConditionalNode,
  ContinueNode,
  DotNode,
  FieldNode,
  IdentifierNode,
  NilNode,
  Node,
  NumberNode,
  Operand,
  PipeNode,
  RangeNode,
  StringNode,
  TextNode,
  VariableDeclaration,
  VariableNode,
} from './ast.js';
export {
  TemplateRenderError,
  type TemplateRenderErrorCode,
  TemplateSyntaxError,
  type TemplateSyntaxErrorCode,
} from './errors.js';
export type { TemplateFunction } from './evaluator.js';
export { DEFAULT_RENDER_LIMITS, type RenderLimits, type RenderOptions } from './limits.js';
export { DEFAULT_PARSE_MAX_DEPTH, type ParsedTemplate, type ParseOptions, parseTemplate } from './parser.js';
export type { SourcePosition } from './position.js';
export { renderTemplate, type TemplateFunctions } from './render.js';
