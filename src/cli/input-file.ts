import { readFile } from 'node:fs/promises';

/**
 * Reads a file named on the command line, or stdin for `-`, as UTF-8. Throws an Error naming the
 * file and the `subject` it was meant to contain, never its content, which may be a secret.
 */
export async function readInputFile(path: string, subject: string): Promise<string> {
  try {
    return path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new Error(`cannot read ${subject} from ${path === '-' ? '<stdin>' : path}: ${reason}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
