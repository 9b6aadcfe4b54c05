/**
 * The executor: walks a parsed template over data as Go's text/template does, writing text and the
 * values of actions, running if, with and range blocks, and enforcing the output, iteration and
 * depth limits. Pipelines are evaluated by the Evaluator.
 *
 * `{{break}}` and `{{continue}}` travel back up as return values to the innermost range.
 */
import type { ConditionalNode, Node, PipeNode, RangeNode } from './ast.js';
import { Evaluator, type TemplateFunction } from './evaluator.js';
import { ExecutionContext } from './execution-context.js';
import { DEFAULT_SPEC, formatValue } from './format-value.js';
import type { RenderLimits } from './limits.js';
import type { ParsedTemplate } from './parser.js';
import { type GoMap, isTrue, kindOf, MISSING, mapKeys, unsupportedValue } from './values.js';

type LoopSignal = 'break' | 'continue' | null;

/**
 * Maximum stretch of synchronous work between two yields to the event loop. Awaiting resolved
 * promises only queues microtasks, so a long range would otherwise hold the loop (timers, sockets)
 * until it ends.
 */
const YIELD_INTERVAL_MS = 10;

export class Execution {
  readonly #context: ExecutionContext;
  readonly #evaluator: Evaluator;
  readonly #output: string[] = [];
  #outputBytes = 0;
  #iterations = 0;
  #lastYield = performance.now();

  constructor(
    template: ParsedTemplate,
    data: unknown,
    functions: ReadonlyMap<string, TemplateFunction>,
    limits: RenderLimits,
    signal: AbortSignal | undefined,
  ) {
    // Nil data is Go's invalid value: its fields print `<no value>`.
    const root = data === null || data === undefined ? MISSING : data;
    this.#context = new ExecutionContext(template, root, limits, signal);
    this.#evaluator = new Evaluator(this.#context, functions);
  }

  async run(): Promise<string> {
    this.#context.checkAbort(0);
    this.#evaluator.checkFunctions();
    await this.#walkList(this.#context.get('$', 0), this.#context.template.root);
    return this.#output.join('');
  }

  #write(text: string, offset: number): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    const max = this.#context.limits.maxOutputBytes;
    if (this.#outputBytes + bytes > max) {
      this.#context.fail(offset, 'OUTPUT_LIMIT', `output is larger than the limit of ${max} bytes`);
    }
    this.#outputBytes += bytes;
    this.#output.push(text);
  }

  async #walkList(dot: unknown, nodes: readonly Node[]): Promise<LoopSignal> {
    for (const node of nodes) {
      const signal = await this.#walk(dot, node);
      if (signal) return signal;
    }
    return null;
  }

  async #walk(dot: unknown, node: Node): Promise<LoopSignal> {
    switch (node.kind) {
      case 'text':
        this.#write(node.text, node.start);
        return null;
      case 'action': {
        const value = await this.#evaluator.evalPipeline(dot, node.pipe);
        if (node.pipe.declarations.length === 0) {
          this.#write(this.#printable(value, node.pipe.start), node.pipe.start);
        }
        return null;
      }
      case 'if':
      case 'with':
        return this.#walkConditional(dot, node);
      case 'range':
        return this.#walkRange(dot, node);
      case 'break':
      case 'continue':
        return node.kind;
    }
  }

  /** The text an action prints: `<no value>` for nil and missing values, else Go's `%v`. */
  #printable(value: unknown, offset: number): string {
    if (value === MISSING || value === null || value === undefined) return '<no value>';
    return this.#context.at(offset, () => formatValue(value, DEFAULT_SPEC, this.#context.formatLimits));
  }

  /** Runs an if or with block, following a chain of `{{else if}}` or `{{else with}}` in a loop. */
  async #walkConditional(dot: unknown, node: ConditionalNode): Promise<LoopSignal> {
    const context = this.#context;
    context.enter(node.start);
    const mark = context.mark();
    try {
      let current = node;
      for (;;) {
        const value = await this.#evaluator.evalPipeline(dot, current.pipe);
        if (context.at(current.pipe.start, () => isTrue(value))) {
          return await this.#walkList(current.kind === 'with' ? value : dot, current.list);
        }
        const elseList = current.elseList;
        if (!elseList) return null;
        const first = elseList[0];
        if (elseList.length === 1 && (first?.kind === 'if' || first?.kind === 'with') && first.chained) {
          current = first;
          continue;
        }
        return await this.#walkList(dot, elseList);
      }
    } finally {
      context.popTo(mark);
      context.leave();
    }
  }

  async #walkRange(dot: unknown, node: RangeNode): Promise<LoopSignal> {
    const context = this.#context;
    context.enter(node.start);
    const outerMark = context.mark();
    try {
      const collection = await this.#evaluator.evalPipeline(dot, node.pipe);
      const mark = context.mark();
      let ran = false;
      for (const [key, element] of this.#rangeEntries(node, collection)) {
        ran = true;
        await this.#countIteration(node.start);
        this.#setRangeVariables(node.pipe, key, element);
        const signal = await this.#walkList(element, node.list);
        context.popTo(mark);
        if (signal === 'break') break;
      }
      if (ran || !node.elseList) return null;
      // Go's range swallows a break raised in its else list but passes a continue on.
      const signal = await this.#walkList(dot, node.elseList);
      return signal === 'continue' ? signal : null;
    } finally {
      context.popTo(outerMark);
      context.leave();
    }
  }

  async #countIteration(offset: number): Promise<void> {
    const context = this.#context;
    context.checkAbort(offset);
    this.#iterations++;
    const max = context.limits.maxRangeIterations;
    if (this.#iterations > max) {
      context.fail(offset, 'RANGE_LIMIT', `range iterations exceed the limit of ${max} for one render`);
    }
    // Reading the clock every 64 iterations keeps its cost out of tight loops.
    if (this.#iterations % 64 === 0 && performance.now() - this.#lastYield >= YIELD_INTERVAL_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.#lastYield = performance.now();
      context.checkAbort(offset);
    }
  }

  /** The (key, element) pairs a range visits, produced lazily so that `range 1000000000` costs nothing up front. */
  *#rangeEntries(node: RangeNode, collection: unknown): Generator<[unknown, unknown]> {
    const context = this.#context;
    switch (kindOf(collection)) {
      case 'int': {
        if (node.pipe.declarations.length > 1) {
          const reason = `can't use ${collection} to iterate over more than one variable`;
          context.fail(node.start, 'EXECUTION', reason);
        }
        // Since Go 1.24, range over an int n visits 0 to n-1; the index is the invalid value.
        for (let i = 0; i < (collection as number); i++) yield [MISSING, i];
        return;
      }
      case 'slice': {
        const slice = collection as readonly unknown[];
        for (let i = 0; i < slice.length; i++) yield [i, slice[i] ?? null];
        return;
      }
      case 'map': {
        const map = collection as GoMap;
        for (const key of mapKeys(map)) yield [key, map[key]];
        return;
      }
      case 'invalid':
      case 'nil':
        return;
      case 'unsupported':
        context.at(node.start, () => {
          throw unsupportedValue(collection);
        });
        return;
      default: {
        const printed = context.at(node.start, () =>
          formatValue(collection, DEFAULT_SPEC, context.formatLimits),
        );
        context.fail(node.start, 'EXECUTION', `range can't iterate over ${printed}`);
      }
    }
  }

  /** Sets `$v` or `$k, $v` for one iteration, with Go's rules for `:=` and `=`. */
  #setRangeVariables(pipe: PipeNode, key: unknown, element: unknown): void {
    const declarations = pipe.declarations;
    const [first, second] = declarations;
    if (!first) return;
    if (pipe.isAssign) {
      this.#context.assign(first.name, second ? key : element, first.start);
      if (second) this.#context.assign(second.name, element, second.start);
      return;
    }
    // The declarations were pushed last, so the element's variable is on top and the key's below it.
    this.#context.setFromTop(1, element);
    if (second) this.#context.setFromTop(2, key);
  }
}
