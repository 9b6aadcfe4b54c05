import {
  type ClientVariable,
  type ClientVariableMetadata,
  VariableReadError,
  type VariableReader,
} from './variable-reader.js';

/** Reason code of a template function's failure. The render fails with the error as its cause. */
export type TemplateFunctionErrorCode =
  /** `nomadVar` named a variable that does not exist. */
  | 'VARIABLE_NOT_FOUND'
  /** The task's identity may not read or list what the call named. */
  | 'PERMISSION_DENIED'
  /** The call could not reach a server, or the server failed; a later attempt may succeed. */
  | 'READ_FAILED'
  /** The template passed a wrong argument. */
  | 'INVALID_ARGUMENT'
  /** The task has no workload identity, so it cannot read variables at all. */
  | 'NO_IDENTITY';

export class TemplateFunctionError extends Error {
  override readonly name = 'TemplateFunctionError';
  readonly code: TemplateFunctionErrorCode;

  constructor(code: TemplateFunctionErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A function that a template may call; the engine awaits its result. */
export type TemplateFunction = (...args: unknown[]) => unknown;

export interface TemplateFunctionsContext {
  /** The task's namespace, which a path without `@NAMESPACE` reads in. */
  readonly namespace: string;
  /** Reads with the task's workload identity; null when the allocation carries no token for the task. */
  readonly reader: VariableReader | null;
  /** The task's environment, which `env` reads. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The functions of one render pass over a task's templates. Reads are cached for the pass, so a
 * template that names a variable twice gets one value, and so do the task's other templates.
 */
export class TemplateFunctions {
  readonly #context: TemplateFunctionsContext;
  readonly #reads = new Map<string, Promise<ClientVariable | null>>();
  readonly #lists = new Map<string, Promise<ClientVariableMetadata[]>>();

  constructor(context: TemplateFunctionsContext) {
    this.#context = context;
  }

  /** True once a template of this pass called a variable function, so the task's templates need a watch. */
  get readVariables(): boolean {
    return this.#reads.size > 0 || this.#lists.size > 0;
  }

  /**
   * Returns the functions for the engine:
   *
   * - `nomadVar "PATH[@NAMESPACE]"`: the variable's items as a map, so `.KEY` and `range $k, $v`
   *   work as in Nomad. Fails the render when the variable does not exist or may not be read.
   * - `nomadVarExists "PATH[@NAMESPACE]"`: true or false. A denied read fails the render, as for
   *   `nomadVar`, so that a missing policy is not mistaken for a missing variable.
   * - `nomadVarList ["PREFIX[@NAMESPACE]"]`: the variables under the prefix that the identity may
   *   list, sorted by path, as maps of Namespace, Path, CreateIndex, ModifyIndex, CreateTime and
   *   ModifyTime. No argument lists every variable of the namespace.
   * - `env "NAME"`: the task's environment variable, or '' when it is not set.
   */
  functions(): Record<string, TemplateFunction> {
    return {
      nomadVar: (path: unknown) => this.#nomadVar(path),
      nomadVarExists: (path: unknown) => this.#nomadVarExists(path),
      nomadVarList: (...args: unknown[]) => this.#nomadVarList(args),
      env: (name: unknown) => this.#env(name),
    };
  }

  async #nomadVar(argument: unknown): Promise<Record<string, string>> {
    const { namespace, path } = this.#target('nomadVar', argument);
    const variable = await this.#read(namespace, path);
    if (variable === null) {
      throw new TemplateFunctionError(
        'VARIABLE_NOT_FOUND',
        `variable ${JSON.stringify(path)} not found in namespace ${namespace}`,
      );
    }
    // A map without a prototype, so an item named like an Object.prototype member is an ordinary key.
    return Object.assign(Object.create(null) as Record<string, string>, variable.Items);
  }

  async #nomadVarExists(argument: unknown): Promise<boolean> {
    const { namespace, path } = this.#target('nomadVarExists', argument);
    return (await this.#read(namespace, path)) !== null;
  }

  async #nomadVarList(args: readonly unknown[]): Promise<Record<string, string | number>[]> {
    if (args.length > 1) {
      throw new TemplateFunctionError(
        'INVALID_ARGUMENT',
        `nomadVarList takes at most one prefix, got ${args.length} arguments`,
      );
    }
    const { namespace, path: prefix } =
      args.length === 0
        ? { namespace: this.#context.namespace, path: '' }
        : this.#target('nomadVarList', args[0]);
    const key = `${namespace}\u0000${prefix}`;
    let listed = this.#lists.get(key);
    if (listed === undefined) {
      listed = this.#requireReader().then((reader) =>
        reader.list(namespace, prefix).catch((err: unknown) => {
          throw functionError(err);
        }),
      );
      this.#lists.set(key, listed);
    }
    const entries = await listed;
    return entries.map((entry) => ({
      Namespace: entry.Namespace,
      Path: entry.Path,
      CreateIndex: entry.CreateIndex,
      ModifyIndex: entry.ModifyIndex,
      CreateTime: entry.CreateTime,
      ModifyTime: entry.ModifyTime,
    }));
  }

  #env(name: unknown): string {
    if (typeof name !== 'string') {
      throw new TemplateFunctionError('INVALID_ARGUMENT', 'env takes the name of a variable as a string');
    }
    return Object.hasOwn(this.#context.env, name) ? (this.#context.env[name] ?? '') : '';
  }

  #read(namespace: string, path: string): Promise<ClientVariable | null> {
    const key = `${namespace}\u0000${path}`;
    let read = this.#reads.get(key);
    if (read === undefined) {
      read = this.#requireReader().then((reader) =>
        reader.read(namespace, path).catch((err: unknown) => {
          throw functionError(err);
        }),
      );
      this.#reads.set(key, read);
    }
    return read;
  }

  async #requireReader(): Promise<VariableReader> {
    const { reader } = this.#context;
    if (reader === null) {
      throw new TemplateFunctionError(
        'NO_IDENTITY',
        'the task has no workload identity, so its templates cannot read variables',
      );
    }
    return reader;
  }

  /** Splits `PATH@NAMESPACE`; a path without `@` is in the task's namespace. */
  #target(functionName: string, argument: unknown): { namespace: string; path: string } {
    if (typeof argument !== 'string') {
      throw new TemplateFunctionError(
        'INVALID_ARGUMENT',
        `${functionName} takes a variable path as a string`,
      );
    }
    const at = argument.lastIndexOf('@');
    if (at < 0) return { namespace: this.#context.namespace, path: argument };
    return { namespace: argument.slice(at + 1), path: argument.slice(0, at) };
  }
}

function functionError(err: unknown): TemplateFunctionError {
  if (err instanceof TemplateFunctionError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const denied = err instanceof VariableReadError && err.code === 'DENIED';
  return new TemplateFunctionError(denied ? 'PERMISSION_DENIED' : 'READ_FAILED', message);
}
