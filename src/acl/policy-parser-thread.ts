import { Worker } from 'node:worker_threads';
import type { ParseRequest, ParseResponse } from './parse-thread-protocol.js';
import { EMPTY_POLICY, type Policy } from './policy.js';
import { PolicyError } from './policy-error.js';
import type { PolicyParseMode } from './policy-fields.js';
import { PolicyParserError } from './policy-parser-error.js';

/** Default of PolicyParserThreadOptions.timeoutMs: about 25 times the parse of a 64 KiB policy. */
export const DEFAULT_PARSE_TIMEOUT_MS = 5_000;
/** Default of PolicyParserThreadOptions.startTimeoutMs. A start takes 0.1 to 0.4 s on a 2-core VM. */
export const DEFAULT_START_TIMEOUT_MS = 10_000;

/**
 * The worker module beside this one: parse-policy-worker.ts when this module runs from source
 * under tsx, parse-policy-worker.js when it runs from the compiled dist/ folder.
 */
const DEFAULT_WORKER_URL = new URL(
  `./parse-policy-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
);

export interface PolicyParserThreadOptions {
  /**
   * Milliseconds one parse may take once the worker has started. A parse that takes longer is
   * rejected with TIMED_OUT and the worker is replaced. Default DEFAULT_PARSE_TIMEOUT_MS.
   */
  readonly timeoutMs?: number;
  /**
   * Milliseconds a new worker may take to load its modules and js-hcl-parser. Past it, the worker
   * is terminated and every waiting request is rejected with WORKER_START_FAILED. Default
   * DEFAULT_START_TIMEOUT_MS.
   */
  readonly startTimeoutMs?: number;
  /** Worker module that replies to ParseRequests; tests pass one that can crash. Default the parser's own. */
  readonly workerUrl?: URL;
}

interface PendingParse {
  readonly request: ParseRequest;
  readonly resolve: (policy: Policy) => void;
  readonly reject: (err: Error) => void;
}

/**
 * Parses ACL policies on one worker thread, so that a large policy (about 0.2 s for 64 KiB) does not
 * hold the event loop of the thread that requests it. Results and PolicyErrors are those of
 * `parsePolicy`.
 *
 * The worker starts on the first parse and then stays, because loading js-hcl-parser takes about
 * 0.1 s. Requests wait in a queue and go to the worker one at a time, so the timeout measures one
 * parse and not the wait behind others. A worker that crashes or times out is replaced on the next
 * request, and only the request it was parsing is rejected. The worker is unreferenced while it is
 * idle, so it never keeps the process alive, but a parse in progress does.
 */
export class PolicyParserThread {
  readonly #timeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #workerUrl: URL;
  /** Invariant: null, or a worker whose exit has not been handled yet. */
  #worker: Worker | null = null;
  /** Whether #worker has sent 'ready', which distinguishes a crash from a failure to start. */
  #workerReady = false;
  /** Uncaught error of #worker, reported by its 'error' event before its 'exit' event. */
  #workerError: Error | null = null;
  readonly #queue: PendingParse[] = [];
  /** The request sent to #worker. Invariant: non-null only while #worker is non-null. */
  #inFlight: PendingParse | null = null;
  /** Start timeout of #worker until it is ready, then the parse timeout of #inFlight. */
  #timer: NodeJS.Timeout | null = null;
  #nextId = 1;
  #closed = false;

  constructor(options: PolicyParserThreadOptions = {}) {
    this.#timeoutMs = positiveMs('parse timeout', options.timeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS);
    this.#startTimeoutMs = positiveMs('start timeout', options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    this.#workerUrl = options.workerUrl ?? DEFAULT_WORKER_URL;
  }

  /**
   * Parses `rules` as `parsePolicy(rules, mode)` does, on the worker thread. Rejects with the
   * PolicyError that `parsePolicy` throws for the same text, or with a PolicyParserError when the
   * worker fails to start, crashes or times out, or the parser is closed.
   */
  parse(rules: string, mode: PolicyParseMode): Promise<Policy> {
    if (this.#closed) {
      return Promise.reject(new PolicyParserError('CLOSED', 'cannot parse ACL policy: the parser is closed'));
    }
    // Empty rules need no parser, as in parsePolicy.
    if (rules === '') return Promise.resolve(EMPTY_POLICY);
    return new Promise((resolve, reject) => {
      this.#queue.push({ request: { id: this.#nextId++, rules, mode }, resolve, reject });
      this.#sendNext();
    });
  }

  /** Terminates the worker and rejects every request still waiting for a reply with CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const inFlight = this.#inFlight;
    const worker = this.#dropWorker();
    this.#rejectAll(
      inFlight,
      new PolicyParserError('CLOSED', 'cannot parse ACL policy: the parser was closed'),
    );
    await worker?.terminate();
  }

  #sendNext(): void {
    if (this.#inFlight !== null) return;
    const next = this.#queue.shift();
    if (next === undefined) {
      this.#worker?.unref();
      return;
    }
    let worker = this.#worker;
    if (worker === null) {
      try {
        worker = this.#startWorker();
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.#rejectAll(next, this.#startFailure(`: ${reason}`));
        return;
      }
    }
    worker.ref();
    this.#inFlight = next;
    // Messages sent before the worker is ready wait in its port, and the parse timeout starts at 'ready'.
    worker.postMessage(next.request);
    if (this.#workerReady) this.#armTimer(this.#timeoutMs, () => this.#onParseTimeout());
  }

  #startWorker(): Worker {
    const worker = spawnWorker(this.#workerUrl);
    this.#worker = worker;
    this.#workerReady = false;
    this.#workerError = null;
    this.#armTimer(this.#startTimeoutMs, () => this.#onStartTimeout());
    worker.on('message', (response: ParseResponse) => {
      if (worker === this.#worker) this.#onResponse(response);
    });
    worker.on('error', (err: Error) => {
      if (worker === this.#worker) this.#workerError = err;
    });
    worker.on('exit', (exitCode: number) => {
      if (worker === this.#worker) this.#onUnexpectedExit(exitCode);
    });
    return worker;
  }

  #onResponse(response: ParseResponse): void {
    if (response.kind === 'ready') {
      this.#workerReady = true;
      this.#clearTimer();
      if (this.#inFlight !== null) this.#armTimer(this.#timeoutMs, () => this.#onParseTimeout());
      return;
    }
    const parse = this.#inFlight;
    if (parse === null || parse.request.id !== response.id) return;
    this.#inFlight = null;
    this.#clearTimer();
    switch (response.kind) {
      case 'parsed':
        parse.resolve(response.policy);
        break;
      case 'rejected':
        parse.reject(new PolicyError(response.code, response.field, response.value, response.message));
        break;
      case 'failed':
        parse.reject(
          new PolicyParserError(
            'INTERNAL',
            `failed to parse ACL policy: the parser threw ${response.message}`,
          ),
        );
        break;
    }
    this.#sendNext();
  }

  #onParseTimeout(): void {
    const parse = this.#inFlight;
    const worker = this.#dropWorker();
    void worker?.terminate();
    if (parse !== null) {
      const bytes = Buffer.byteLength(parse.request.rules, 'utf8');
      parse.reject(
        new PolicyParserError(
          'TIMED_OUT',
          `failed to parse ACL policy of ${bytes} bytes: the parser worker took more than ${this.#timeoutMs} ms ` +
            'and was restarted. Retry, or split the policy if it times out again',
        ),
      );
    }
    this.#sendNext();
  }

  #onStartTimeout(): void {
    const parse = this.#inFlight;
    const worker = this.#dropWorker();
    void worker?.terminate();
    this.#rejectAll(parse, this.#startFailure(`: not ready after ${this.#startTimeoutMs} ms`));
  }

  #onUnexpectedExit(exitCode: number): void {
    const started = this.#workerReady;
    const cause = this.#workerError === null ? '' : `: ${this.#workerError.message}`;
    const parse = this.#inFlight;
    this.#dropWorker();
    if (!started) {
      // The module failed to load, and a new worker would fail the same way: reject everything.
      this.#rejectAll(parse, this.#startFailure(` (exit code ${exitCode})${cause}`));
      return;
    }
    parse?.reject(
      new PolicyParserError(
        'WORKER_CRASHED',
        `failed to parse ACL policy: the parser worker exited with code ${exitCode}${cause}. ` +
          'It is replaced for the next request, so retry',
      ),
    );
    this.#sendNext();
  }

  #startFailure(detail: string): PolicyParserError {
    return new PolicyParserError(
      'WORKER_START_FAILED',
      `failed to start the ACL policy parser worker ${this.#workerUrl.href}${detail}`,
    );
  }

  /** Rejects `first` (when not null) and every queued request with `failure`. */
  #rejectAll(first: PendingParse | null, failure: Error): void {
    const pending = first === null ? [...this.#queue] : [first, ...this.#queue];
    this.#queue.length = 0;
    for (const parse of pending) parse.reject(failure);
  }

  #armTimer(ms: number, onExpiry: () => void): void {
    this.#clearTimer();
    // The worker, referenced while it has work, keeps the process alive; the timer need not.
    this.#timer = setTimeout(onExpiry, ms).unref();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Forgets the current worker and its request, so that its later events are ignored, and returns it. */
  #dropWorker(): Worker | null {
    const worker = this.#worker;
    this.#worker = null;
    this.#inFlight = null;
    this.#clearTimer();
    return worker;
  }
}

function positiveMs(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(`invalid policy parser ${name} ${ms}: expected a positive number of ms`);
  }
  return ms;
}

/**
 * Starts a worker on `url`. A `.js` module starts as is. A `.ts` module (a run from source) needs
 * tsx in the worker. On Node.js 20.20, the hooks that `--import tsx` registers do not load a
 * worker's `.ts` entry ("Unknown file extension"), even with `--import tsx` in the worker's
 * execArgv. So the worker registers tsx through its API and then imports the module.
 *
 * The worker gets none of the process's flags: it needs none, and some make it fail to start
 * (`--input-type`, for one, is rejected for a worker that runs a file).
 */
function spawnWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { execArgv: [] });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}

let shared: PolicyParserThread | undefined;

/**
 * Parses ACL policy rules on the process's shared parser thread, which starts on the first call.
 * Resolves to what `parsePolicy(rules, mode)` returns and rejects with the PolicyError it throws,
 * or with a PolicyParserError when the worker fails (see PolicyParserThread).
 */
export function parsePolicyOffThread(rules: string, mode: PolicyParseMode): Promise<Policy> {
  shared ??= new PolicyParserThread();
  return shared.parse(rules, mode);
}
