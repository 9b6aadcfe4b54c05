import { parentPort } from 'node:worker_threads';
import { handleParseRequest } from './handle-parse-request.js';
import type { ParseRequest, ParseResponse } from './parse-thread-protocol.js';

// Entry point of the policy parser worker thread (see policy-parser-thread.ts). It parses one
// request at a time, and js-hcl-parser loads and runs in this thread, never in the main one.
const port = parentPort;
if (port === null) throw new Error('parse-policy-worker must run in a worker thread, not as a main module');

// Loads js-hcl-parser (about 0.1 s) before 'ready', so the parse timeout measures parses only.
handleParseRequest({ id: 0, rules: 'agent { policy = "read" }', mode: 'strict' });

port.on('message', (request: ParseRequest) => {
  const response = handleParseRequest(request);
  port.postMessage(response);
  // An error that is not a policy's own (such as a stack overflow inside js-hcl-parser) may leave
  // the parser broken for every later request, so this thread ends and a fresh one takes over.
  if (response.kind === 'failed') process.exit(1);
});
port.postMessage({ kind: 'ready' } satisfies ParseResponse);
