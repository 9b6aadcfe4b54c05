/**
 * Exit status of a process that the shell reports as ended by SIGPIPE (128 + 13), as for `cat`
 * and for Go programs such as Nomad when the reader of their output goes away.
 */
export const CLOSED_STDOUT_EXIT_CODE = 141;

/**
 * Makes the process exit at once and without a message when its standard output is a pipe whose
 * reader has gone (`signet ... | head -1`). Node ignores SIGPIPE, so without this handler the
 * failed write surfaces as an unhandled EPIPE error with a stack trace. Other write errors are
 * thrown as before.
 */
export function exitOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(CLOSED_STDOUT_EXIT_CODE);
  });
}
