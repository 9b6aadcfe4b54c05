import { parentPort } from 'node:worker_threads';
import { handleParseRequest } from '../../../src/acl/handle-parse-request.js';
import type { ParseRequest, ParseResponse } from '../../../src/acl/parse-thread-protocol.js';

// A policy parser worker that replies as the real one does, except that the rules '# crash: exit' end
// the thread with exit code 3 and '# crash: throw' throw an uncaught error, mid-request.
const port = parentPort;
if (port === null) throw new Error('crashing-parse-worker must run in a worker thread');

port.on('message', (request: ParseRequest) => {
  if (request.rules === '# crash: exit') process.exit(3);
  if (request.rules === '# crash: throw') throw new Error('parser fixture crashed on purpose');
  port.postMessage(handleParseRequest(request));
});
port.postMessage({ kind: 'ready' } satisfies ParseResponse);
