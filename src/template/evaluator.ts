/**
 * Evaluation of pipelines as Go's text/template does it: commands joined by `|` (each result becomes
 * the last argument of the next command), field chains over maps, variables, and calls of builtins
 * and of caller-supplied functions. Caller functions may return promises, and each call is awaited
 * before the next step, so calls run one at a time in template order.
 */
import {
  type ChainNode,
  type CommandNode,
  describeOperand,
  type IdentifierNode,
  type Operand,
  type PipeNode,
  type VariableNode,
} from './ast.js';
import { BUILTINS, SHORT_CIRCUIT_BUILTINS, UNSUPPORTED_BUILTINS } from './builtins.js';
import type { ExecutionContext } from './execution-context.js';
import {
  concrete,
  fromCallerValue,
  type GoMap,
  isTrue,
  kindOf,
  MISSING,
  mapGet,
  toCallerValue,
  typeName,
  unsupportedValue,
} from './values.js';

/**
 * A function the template may call. It receives the evaluated arguments (null for nil and missing
 * values, numbers for ints and floats) and may return a value or a promise of one.
 */
export type TemplateFunction = (...args: never[]) => unknown;

type CallableFunction = (...args: unknown[]) => unknown;

/** Marks the absence of a value piped in from the previous command. */
const NO_FINAL: unique symbol = Symbol('no final argument');

/** Rejection reason that distinguishes an abort from a failure of the awaited function. */
const ABORTED: unique symbol = Symbol('aborted');

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Evaluator {
  readonly #context: ExecutionContext;
  readonly #functions: ReadonlyMap<string, CallableFunction>;

  constructor(context: ExecutionContext, functions: ReadonlyMap<string, TemplateFunction>) {
    this.#context = context;
    this.#functions = functions as ReadonlyMap<string, CallableFunction>;
  }

  /** Rejects a template that names a function the render cannot call, before any output. */
  checkFunctions(): void {
    for (const [name, offset] of this.#context.template.functionNames) {
      if (this.#functions.has(name) || BUILTINS.has(name) || SHORT_CIRCUIT_BUILTINS.has(name)) continue;
      if (UNSUPPORTED_BUILTINS.has(name)) {
        this.#context.fail(offset, 'UNSUPPORTED', `builtin function "${name}" is not supported`);
      }
      this.#context.fail(offset, 'UNDEFINED_FUNCTION', `function "${name}" not defined`, {
        functionName: name,
      });
    }
  }

  /** Evaluates a pipeline and pushes or assigns its declared variables. */
  async evalPipeline(dot: unknown, pipe: PipeNode): Promise<unknown> {
    let value: unknown = NO_FINAL;
    for (const command of pipe.commands) {
      value = await this.#evalCommand(dot, command, value);
      // Go digs a nil interface{} out of a command's result, which leaves the invalid value.
      if (value === null || value === undefined) value = MISSING;
    }
    for (const declaration of pipe.declarations) {
      if (pipe.isAssign) this.#context.assign(declaration.name, value, declaration.start);
      else this.#context.push(declaration.name, value);
    }
    return value;
  }

  async #evalNestedPipeline(dot: unknown, pipe: PipeNode): Promise<unknown> {
    this.#context.enter(pipe.start);
    try {
      return await this.evalPipeline(dot, pipe);
    } finally {
      this.#context.leave();
    }
  }

  async #evalCommand(dot: unknown, command: CommandNode, final: unknown): Promise<unknown> {
    const first = command.args[0]!;
    switch (first.kind) {
      case 'field':
        return this.#evalFieldChain(dot, first, first.path, command.args, final);
      case 'chain':
        return this.#evalChain(dot, first, command.args, final);
      case 'identifier':
        return this.#evalFunction(dot, first, command.args, final);
      case 'variable':
        return this.#evalVariable(first, command.args, final);
      case 'pipe':
        this.#notAFunction(command.args, final);
        return this.#evalNestedPipeline(dot, first);
    }
    this.#notAFunction(command.args, final);
    switch (first.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return this.#context.fail(first.start, 'EXECUTION', 'nil is not a command');
      default:
        return first.value;
    }
  }

  #notAFunction(args: readonly Operand[], final: unknown): void {
    if (args.length > 1 || final !== NO_FINAL) {
      const first = args[0]!;
      this.#context.fail(
        first.start,
        'EXECUTION',
        `can't give argument to non-function ${describeOperand(first)}`,
      );
    }
  }

  /** Looks up `.A.B` from a receiver. Arguments make only the last step fail, as map keys take none. */
  #evalFieldChain(
    receiver: unknown,
    node: Operand,
    path: readonly string[],
    args: readonly Operand[],
    final: unknown,
  ): unknown {
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    let value = receiver;
    path.forEach((name, i) => {
      value = this.#evalField(node, name, value, hasArgs && i === path.length - 1);
    });
    return value;
  }

  #evalField(node: Operand, name: string, receiver: unknown, hasArgs: boolean): unknown {
    // Go returns the invalid value for any field of the invalid value, without an error.
    if (receiver === MISSING) return MISSING;
    switch (kindOf(receiver)) {
      case 'nil':
        return this.#context.fail(node.start, 'EXECUTION', `nil pointer evaluating interface {}.${name}`);
      case 'map':
        if (hasArgs) this.#context.fail(node.start, 'EXECUTION', `${name} is not a method but has arguments`);
        return mapGet(receiver as GoMap, name);
      case 'unsupported':
        return this.#context.at(node.start, () => {
          throw unsupportedValue(receiver);
        });
      default:
        return this.#context.fail(
          node.start,
          'EXECUTION',
          `can't evaluate field ${name} in type ${typeName(receiver)}`,
        );
    }
  }

  async #evalChain(
    dot: unknown,
    chain: ChainNode,
    args: readonly Operand[],
    final: unknown,
  ): Promise<unknown> {
    const base = await this.#evalArgument(dot, chain.node);
    return this.#evalFieldChain(base, chain, chain.path, args, final);
  }

  #evalVariable(node: VariableNode, args: readonly Operand[], final: unknown): unknown {
    const value = this.#context.get(node.name, node.start);
    if (node.path.length === 0) {
      this.#notAFunction(args, final);
      return value;
    }
    return this.#evalFieldChain(value, node, node.path, args, final);
  }

  /** Evaluates an operand passed as an argument, as Go does for a parameter of type interface{}. */
  async #evalArgument(dot: unknown, node: Operand): Promise<unknown> {
    switch (node.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'field':
        return this.#evalFieldChain(dot, node, node.path, [node], NO_FINAL);
      case 'variable':
        return this.#evalVariable(node, [], NO_FINAL);
      case 'pipe':
        return this.#evalNestedPipeline(dot, node);
      case 'identifier':
        return this.#evalFunction(dot, node, [node], NO_FINAL);
      case 'chain':
        return this.#evalChain(dot, node, [], NO_FINAL);
      default:
        return node.value;
    }
  }

  async #evalArguments(dot: unknown, nodes: readonly Operand[], final: unknown): Promise<unknown[]> {
    const values: unknown[] = [];
    for (const node of nodes) values.push(await this.#evalArgument(dot, node));
    if (final !== NO_FINAL) values.push(final);
    return values;
  }

  /** Calls a function. As in Go's command nodes, args[0] is the function's own name. */
  async #evalFunction(
    dot: unknown,
    node: IdentifierNode,
    args: readonly Operand[],
    final: unknown,
  ): Promise<unknown> {
    const name = node.name;
    const argNodes = args.slice(1);
    const count = argNodes.length + (final === NO_FINAL ? 0 : 1);
    const callerFunction = this.#functions.get(name);
    if (callerFunction) {
      const values = await this.#evalArguments(dot, argNodes, final);
      return this.#callCallerFunction(node, callerFunction, values);
    }
    if (SHORT_CIRCUIT_BUILTINS.has(name)) {
      if (count < 1) {
        this.#context.fail(
          node.start,
          'EXECUTION',
          `wrong number of args for ${name}: want at least 1 got 0`,
        );
      }
      return this.#evalShortCircuit(dot, name === 'or', argNodes, final);
    }
    const builtin = BUILTINS.get(name);
    if (!builtin) {
      return this.#context.fail(node.start, 'UNDEFINED_FUNCTION', `function "${name}" not defined`, {
        functionName: name,
      });
    }
    if (builtin.maxArgs === null && count < builtin.minArgs) {
      const reason = `wrong number of args for ${name}: want at least ${builtin.minArgs} got ${count}`;
      this.#context.fail(node.start, 'EXECUTION', reason);
    }
    if (builtin.maxArgs !== null && count !== builtin.maxArgs) {
      const reason = `wrong number of args for ${name}: want ${builtin.maxArgs} got ${count}`;
      this.#context.fail(node.start, 'EXECUTION', reason);
    }
    const values = await this.#evalArguments(dot, argNodes, final);
    if (builtin.firstIsString && kindOf(values[0]) !== 'string') {
      const reason =
        values[0] === MISSING
          ? 'invalid value; expected string'
          : `wrong type for value; expected string; got ${typeName(values[0])}`;
      this.#context.fail(node.start, 'EXECUTION', reason);
    }
    const limits = this.#context.formatLimits;
    return this.#context.at(node.start, () => builtin.call(values, limits), `error calling ${name}: `);
  }

  /** and/or: the first argument that decides the result, or else the last one. */
  async #evalShortCircuit(
    dot: unknown,
    isOr: boolean,
    argNodes: readonly Operand[],
    final: unknown,
  ): Promise<unknown> {
    let value: unknown = MISSING;
    for (const node of argNodes) {
      value = await this.#evalArgument(dot, node);
      if (this.#context.at(node.start, () => isTrue(concrete(value))) === isOr) return value;
    }
    return final === NO_FINAL ? value : final;
  }

  async #callCallerFunction(
    node: IdentifierNode,
    fn: CallableFunction,
    values: readonly unknown[],
  ): Promise<unknown> {
    const name = node.name;
    this.#context.checkAbort(node.start);
    try {
      const result = await this.#abortable(fn(...values.map(toCallerValue)));
      return fromCallerValue(result);
    } catch (error) {
      if (error === ABORTED) {
        return this.#context.fail(node.start, 'ABORTED', `render aborted while calling ${name}`, {
          functionName: name,
          cause: this.#context.signal?.reason,
        });
      }
      const reason = `error calling ${name}: ${errorMessage(error)}`;
      return this.#context.fail(node.start, 'FUNCTION_FAILED', reason, { functionName: name, cause: error });
    }
  }

  /** Awaits a function's result, or rejects with ABORTED as soon as the signal fires. */
  #abortable(result: unknown): Promise<unknown> {
    const signal = this.#context.signal;
    if (!signal) return Promise.resolve(result);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(ABORTED);
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.resolve(result).then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}
