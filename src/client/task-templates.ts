import type { Logger } from 'pino';
import type { Template } from '../structs/job.js';
import {
  type ParsedTemplate,
  parseTemplate,
  renderTemplate,
  TemplateRenderError,
  TemplateSyntaxError,
} from '../template/index.js';
import { abortableSleep } from './abortable-sleep.js';
import { ClientRpcError } from './rpc-client.js';
import { parseTemplateEnv, TemplateEnvError } from './template-env.js';
import {
  readTemplateFile,
  resolveTemplateTarget,
  type TemplateTarget,
  writeTemplateFile,
} from './template-file.js';
import { TemplateFunctionError, TemplateFunctions } from './template-functions.js';
import { VariableReadError, type VariableReader } from './variable-reader.js';

/** Maximum time one watch call waits on the server, in ms. */
const DEFAULT_WATCH_WAIT_MS = 60_000;
/** Pauses between watch attempts after a server failure: doubling from the first to the last, in ms. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * Failure to render or write a template. `destination` names the template, and `reason` is the
 * cause in the template author's terms (the function, the variable, the line). `code` is the
 * function's error code when a function failed.
 */
export class TemplateFailure extends Error {
  override readonly name = 'TemplateFailure';
  readonly destination: string;
  readonly reason: string;
  readonly code: string;

  constructor(destination: string, reason: string, code: string) {
    super(`Template failed: ${destination}: ${reason}`);
    this.destination = destination;
    this.reason = reason;
    this.code = code;
  }
}

/** Outcome of a render pass that changed at least one file. */
export interface TemplateChange {
  /** The templates whose output differed from the file, in job order. */
  readonly changed: readonly Template[];
}

export interface TaskTemplatesOptions {
  readonly templates: readonly Template[];
  /** The task's namespace, which variable paths without `@NAMESPACE` read in. */
  readonly namespace: string;
  /** Reads variables with the task's workload identity; null when the task has none. */
  readonly reader: VariableReader | null;
  /**
   * A prefix the watch lists under: it only waits for the variables table to change, so a prefix
   * with few variables keeps its replies small.
   */
  readonly watchPrefix: string;
  readonly logger: Logger;
  /** Maximum wait of one watch call, in ms. Default 60,000. */
  readonly watchWaitMs?: number;
}

interface PreparedTemplate {
  readonly template: Template;
  readonly parsed: ParsedTemplate;
  readonly target: TemplateTarget;
  /** The file's content as last written or read, or null before the first write. */
  output: string | null;
  /** KEY=VALUE pairs of the last render of an `env = true` template. */
  env: Record<string, string>;
}

/**
 * The `template` blocks of one task: rendered into the task folder before the task starts, and
 * rendered again whenever a variable may have changed.
 *
 * The watch waits for any change of the servers' variables table (a blocking `Variables.List`),
 * then renders every template that read variables and compares its output with the file. Only a
 * template whose output changed is written again and reported to `onChange`, which applies its
 * change mode. A render that fails while the task runs is reported to `onFailure`, and the watch
 * stops.
 */
export class TaskTemplates {
  readonly #options: TaskTemplatesOptions;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #prepared: PreparedTemplate[] | null = null;
  #taskDir = '';
  #env: Readonly<Record<string, string>> = {};
  /** True when a template called a variable function, so a variable change can change its output. */
  #readsVariables = false;
  #watching = false;

  constructor(options: TaskTemplatesOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  /** Returns the variables of every `env = true` template. A later template in job order wins. */
  env(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const prepared of this.#prepared ?? []) Object.assign(env, prepared.env);
    return env;
  }

  /**
   * Renders and writes every template before the task's first start. `env` is the task's
   * environment without the templates' variables, which the `env` function reads. Returns the
   * index to start the watch from. Throws TemplateFailure for the first template that fails.
   */
  async prestart(taskDir: string, env: Readonly<Record<string, string>>): Promise<number> {
    this.#prepare(taskDir, env);
    const index = await this.#currentIndex();
    await this.#renderAll(true);
    return index;
  }

  /**
   * Prepares the templates of a task that was running before the client restarted. The files it
   * left count as the last output, so the watch's first pass applies the change mode only to what
   * changed while the client was away. Throws TemplateFailure for a template that no longer parses
   * or whose destination is invalid.
   */
  async restore(taskDir: string, env: Readonly<Record<string, string>>): Promise<void> {
    this.#prepare(taskDir, env);
    this.#readsVariables = this.#options.reader !== null;
    for (const prepared of this.#prepared!) {
      prepared.output = await readTemplateFile(prepared.target);
      if (prepared.template.Envvars && prepared.output !== null) {
        try {
          prepared.env = parseTemplateEnv(prepared.output);
        } catch (err) {
          if (!(err instanceof TemplateEnvError)) throw err;
        }
      }
    }
  }

  /**
   * Watches the variables from `fromIndex` (0 renders once at the start) until `stop`. Calls
   * `onChange` after writing the templates whose output changed, and `onFailure` once when a render
   * fails, after which the watch ends. Does nothing when no template read a variable.
   */
  async watch(
    fromIndex: number,
    onChange: (change: TemplateChange) => Promise<void>,
    onFailure: (failure: TemplateFailure) => void,
  ): Promise<void> {
    const reader = this.#options.reader;
    if (this.#watching || reader === null || !this.#readsVariables) return;
    this.#watching = true;
    const signal = this.#stop.signal;
    let index = fromIndex;
    let retryMs = RETRY_FIRST_MS;
    while (!signal.aborted) {
      let next: number;
      try {
        next = await reader.waitForChange(this.#options.namespace, this.#options.watchPrefix, {
          minIndex: index,
          maxQueryTimeMs: this.#options.watchWaitMs ?? DEFAULT_WATCH_WAIT_MS,
          signal,
        });
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ClientRpcError && (err.code === 'ABORTED' || err.code === 'CLOSED')) return;
        if (err instanceof VariableReadError && err.code === 'DENIED') {
          // The identity no longer verifies: the allocation ended or its key was removed.
          this.#logger.warn('template watch stopped: the servers no longer accept the task identity');
          return;
        }
        this.#logger.warn({ err, retryMs }, 'template watch failed; retrying');
        await abortableSleep(retryMs, signal);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        continue;
      }
      if (next <= index && index !== 0) continue;

      let changed: Template[];
      try {
        changed = await this.#renderAll(false);
      } catch (err) {
        if (signal.aborted) return;
        if (!(err instanceof TemplateFailure)) throw err;
        if (err.code !== 'READ_FAILED') {
          onFailure(err);
          return;
        }
        // A server that cannot be reached gives no information about the variables, so the files stay as
        // they are, and the index stays behind so that the next pass renders again.
        this.#logger.warn({ destination: err.destination, retryMs }, 'template re-render failed; retrying');
        await abortableSleep(retryMs, signal);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        continue;
      }
      retryMs = RETRY_FIRST_MS;
      index = next;
      if (changed.length > 0 && !signal.aborted) await onChange({ changed });
    }
  }

  /** Ends the watch; a call in flight is aborted. */
  stop(): void {
    this.#stop.abort();
  }

  #prepare(taskDir: string, env: Readonly<Record<string, string>>): void {
    this.#taskDir = taskDir;
    this.#env = env;
    this.#prepared ??= this.#options.templates.map((template, index) => {
      const destination = template.DestPath;
      let parsed: ParsedTemplate;
      let target: TemplateTarget;
      try {
        target = resolveTemplateTarget(taskDir, destination);
        parsed = parseTemplate(template.EmbeddedTmpl, destination || `template ${index + 1}`);
      } catch (err) {
        throw failureOf(destination, err);
      }
      return { template, parsed, target, output: null, env: {} };
    });
  }

  /** The variables table index before the first render, so the watch misses no change after it. */
  async #currentIndex(): Promise<number> {
    const reader = this.#options.reader;
    if (reader === null) return 0;
    try {
      return await reader.waitForChange(this.#options.namespace, this.#options.watchPrefix, {
        minIndex: 0,
        maxQueryTimeMs: 0,
      });
    } catch (err) {
      // The renders report the same failure with the template that hit it.
      this.#logger.debug({ err }, 'cannot read the variables index before rendering templates');
      return 0;
    }
  }

  /**
   * Renders every template with one set of functions, so that they see the same reads, writes each
   * output that changed, and returns the templates written. A template that calls no variable
   * function renders to the same text each time, so it is written only on the first pass. Throws
   * TemplateFailure.
   */
  async #renderAll(first: boolean): Promise<Template[]> {
    const functions = new TemplateFunctions({
      namespace: this.#options.namespace,
      reader: this.#options.reader,
      env: this.#env,
    });
    const changed: Template[] = [];
    for (const prepared of this.#prepared!) {
      const destination = prepared.template.DestPath;
      let output: string;
      let env: Record<string, string> = {};
      try {
        output = await renderTemplate(prepared.parsed, null, functions.functions(), {
          signal: this.#stop.signal,
        });
        if (prepared.template.Envvars) env = parseTemplateEnv(output);
      } catch (err) {
        throw failureOf(destination, err);
      }
      if (output === prepared.output) continue;
      try {
        await writeTemplateFile(this.#taskDir, prepared.target, output);
      } catch (err) {
        throw failureOf(destination, err);
      }
      prepared.output = output;
      prepared.env = env;
      changed.push(prepared.template);
      this.#logger.debug(
        { destination },
        first ? 'rendered template' : 're-rendered template after a change',
      );
    }
    if (first) this.#readsVariables = functions.readVariables;
    return changed;
  }
}

/** Turns what a parse, render or write threw into a TemplateFailure in the template author's terms. */
function failureOf(destination: string, err: unknown): TemplateFailure {
  if (err instanceof TemplateFailure) return err;
  if (err instanceof TemplateRenderError && err.cause instanceof TemplateFunctionError) {
    return new TemplateFailure(
      destination,
      `${err.functionName}: ${err.cause.message} (line ${err.line}, column ${err.column})`,
      err.cause.code,
    );
  }
  if (err instanceof TemplateSyntaxError || err instanceof TemplateRenderError) {
    return new TemplateFailure(destination, err.message, err.code);
  }
  if (err instanceof TemplateEnvError) {
    return new TemplateFailure(
      destination,
      `env = true, but the output is not KEY=VALUE lines: ${err.message}`,
      'ENV_INVALID',
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return new TemplateFailure(destination, message, typeof code === 'string' ? code : 'WRITE_FAILED');
}
