import assert from 'node:assert/strict';
import {
  parseTemplate,
  type RenderOptions,
  renderTemplate,
  type TemplateFunctions,
  TemplateRenderError,
  TemplateSyntaxError,
} from '../../src/template/index.js';

export function render(
  source: string,
  data: unknown = null,
  functions: TemplateFunctions = {},
  options: RenderOptions = {},
): Promise<string> {
  return renderTemplate(parseTemplate(source, 'test'), data, functions, options);
}

export function syntaxError(source: string, options: { maxDepth?: number } = {}): TemplateSyntaxError {
  try {
    parseTemplate(source, 'test', options);
  } catch (error) {
    assert.ok(error instanceof TemplateSyntaxError, `expected TemplateSyntaxError, got ${String(error)}`);
    return error;
  }
  return assert.fail(`parsed without error: ${JSON.stringify(source)}`);
}

export async function renderError(
  source: string,
  data: unknown = null,
  functions: TemplateFunctions = {},
  options: RenderOptions = {},
): Promise<TemplateRenderError> {
  let output: string;
  try {
    output = await render(source, data, functions, options);
  } catch (error) {
    assert.ok(error instanceof TemplateRenderError, `expected TemplateRenderError, got ${String(error)}`);
    return error;
  }
  return assert.fail(`rendered without error: ${JSON.stringify(output)}`);
}
