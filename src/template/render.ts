import type { TemplateFunction } from './evaluator.js';
import { Execution } from './executor.js';
import { type RenderOptions, resolveLimits } from './limits.js';
import type { ParsedTemplate } from './parser.js';

export type TemplateFunctions = Readonly<Record<string, TemplateFunction>>;

/**
 * Renders a parsed template over data. The functions extend Go's builtins and take precedence over
 * them; a template that names a function neither provides fails before producing output.
 *
 * Throws TemplateRenderError for every failure of the template or of a function (the error carries
 * the line and column of the action), TypeError for a functions entry that is not a function, and
 * RangeError for an invalid limit.
 */
export async function renderTemplate(
  template: ParsedTemplate,
  data: unknown,
  functions: TemplateFunctions = {},
  options: RenderOptions = {},
): Promise<string> {
  const limits = resolveLimits(options);
  const callable = new Map<string, TemplateFunction>();
  for (const [name, fn] of Object.entries(functions)) {
    if (typeof fn !== 'function') throw new TypeError(`renderTemplate: functions.${name} is not a function`);
    callable.set(name, fn);
  }
  return new Execution(template, data, callable, limits, options.signal).run();
}
