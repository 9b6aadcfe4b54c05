import { spawn } from 'node:child_process';
import { type AgentEntry, signetArgs } from '../agent-entry.js';

/** Time limit of one CLI command in ms; `job run` follows its evaluation, which can take a while on a busy machine. */
const COMMAND_TIMEOUT_MS = 120_000;

export interface CommandResult {
  /** Exit code, or null when the command was killed (then `signal` names the signal). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** NOMAD_ADDR for this command: the address the demo last printed an `export` line for. */
  readonly address: string;
  /** NOMAD_TOKEN for this command. */
  readonly token: string;
  /**
   * Environment assignments to print before the command instead of the real values, such as
   * `NOMAD_TOKEN=$(cat FILE)`: what a user would type, without the secret in the demo's output.
   */
  readonly displayEnv?: string;
}

/**
 * Runs `signet` commands as a user would type them: prints `$ signet ARGS`, runs the CLI with
 * NOMAD_ADDR and NOMAD_TOKEN in its environment, and prints its output indented below.
 */
export class SignetRunner {
  readonly #entry: AgentEntry;
  readonly #repoRoot: string;
  readonly #print: (line: string) => void;
  /** Tokens to mask in the printed output, such as the Secret ID that `acl token self` shows. */
  readonly #secrets = new Set<string>();

  constructor(entry: AgentEntry, repoRoot: string, print: (line: string) => void) {
    this.#entry = entry;
    this.#repoRoot = repoRoot;
    this.#print = print;
  }

  /** Masks `secret` wherever a command's output shows it. */
  redact(secret: string): void {
    if (secret !== '') this.#secrets.add(secret);
  }

  /** Describes the program that `signet` stands for in the printed commands. */
  describe(): string {
    return this.#entry === 'dist'
      ? 'node dist/src/cli/main.js, which npx signet runs'
      : 'node --import tsx src/cli/main.ts, the sources, because the build in dist/ is missing or older than src/';
  }

  async run(args: readonly string[], options: RunOptions): Promise<CommandResult> {
    const prefix = options.displayEnv === undefined ? '' : `${options.displayEnv} `;
    this.#print(`  $ ${prefix}signet ${args.map(quoteForShell).join(' ')}`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NOMAD_ADDR: options.address,
      NOMAD_TOKEN: options.token,
    };
    // SIGNET_* win over NOMAD_* in the CLI, so a value from the user's shell would redirect the demo.
    delete env.SIGNET_ADDR;
    delete env.SIGNET_TOKEN;
    delete env.SIGNET_NAMESPACE;
    delete env.NOMAD_NAMESPACE;
    delete env.NODE_TEST_CONTEXT;
    const result = await runProcess(
      process.execPath,
      [...signetArgs(this.#entry, this.#repoRoot), ...args],
      env,
      this.#repoRoot,
    );
    let output = `${result.stdout}${result.stderr}`.trimEnd();
    for (const secret of this.#secrets) output = output.replaceAll(secret, '<redacted>');
    for (const line of output.split('\n')) {
      if (line !== '') this.#print(`    ${line}`);
    }
    return result;
  }
}

function runProcess(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: COMMAND_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/** Quotes an argument for a POSIX shell when it contains anything but safe characters. */
function quoteForShell(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
