import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Raised when `ip`, `iptables` or `tc` fails; `stderr` is what the tool printed. */
export class NetCommandError extends Error {
  override readonly name = 'NetCommandError';
  readonly command: readonly string[];
  /** errno code when the program could not start (ENOENT: not installed), else null. */
  readonly code: string | null;
  readonly stderr: string;

  constructor(command: readonly string[], code: string | null, stderr: string) {
    const reason =
      code === 'ENOENT' ? `${command[0]} is not installed` : stderr.trim() || `exit code ${code}`;
    super(`${command.join(' ')} failed: ${reason}`);
    this.command = command;
    this.code = code;
    this.stderr = stderr;
  }
}

/** Runs `program` with `args` and returns its stdout; raises NetCommandError when it fails. */
export async function runNet(program: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(program, args, { encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const failure = err as NodeJS.ErrnoException & { stderr?: string };
    const code = typeof failure.code === 'string' ? failure.code : String(failure.code ?? '');
    throw new NetCommandError([program, ...args], code, failure.stderr ?? '');
  }
}

/** runNet inside the network namespace `namespace` (`ip netns exec`). */
export function runInNamespace(namespace: string, program: string, args: readonly string[]): Promise<string> {
  return runNet('ip', ['netns', 'exec', namespace, program, ...args]);
}

/**
 * Runs `program` synchronously and returns false when it fails. Only for the cleanup on a signal
 * or at process exit, where nothing asynchronous runs to the end.
 */
export function runNetSync(program: string, args: readonly string[]): boolean {
  try {
    execFileSync(program, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
