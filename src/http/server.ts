import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServerBackend } from '../server/backend.js';
import { RequestError } from '../server/request-error.js';
import type { ApiReply, ApiRequest } from './api-request.js';
import { resolveRequestAccess } from './request-access.js';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from './request-body.js';
import { ApiRouter } from './router.js';
import { registerAclPolicyRoutes } from './routes/acl-policies.js';
import { registerAclTokenRoutes } from './routes/acl-tokens.js';
import { registerAgentRoutes } from './routes/agent.js';
import { registerAllocationRoutes } from './routes/allocations.js';
import { registerEvaluationRoutes } from './routes/evaluations.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerKeyringRoutes } from './routes/keyring.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerNamespaceRoutes } from './routes/namespaces.js';
import { registerNodeRoutes } from './routes/nodes.js';
import { registerOperatorRaftRoutes } from './routes/operator-raft.js';
import { registerOperatorSnapshotRoutes } from './routes/operator-snapshot.js';
import { registerStatusRoutes } from './routes/status.js';
import { registerVariableRoutes } from './routes/variables.js';
import { registerWellKnownRoutes } from './routes/well-known.js';

export interface HttpServerOptions {
  readonly backend: ServerBackend;
  readonly logger: Logger;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Largest request body in bytes; default `DEFAULT_MAX_BODY_BYTES` (1 MiB). */
  readonly maxBodyBytes?: number;
}

export interface HttpServerHandle {
  /** The port the server listens on. */
  readonly port: number;
  /**
   * Stops accepting connections, ends blocking queries at once, closes every connection and
   * resolves once the listener is closed. Handlers still waiting on the backend finish on their own,
   * and their replies are dropped.
   */
  close(): Promise<void>;
}

/** Builds the router with every API route. */
export function buildApiRouter(): ApiRouter {
  const router = new ApiRouter();
  registerStatusRoutes(router);
  registerAgentRoutes(router);
  registerOperatorRaftRoutes(router);
  registerOperatorSnapshotRoutes(router);
  registerKeyringRoutes(router);
  registerWellKnownRoutes(router);
  registerNamespaceRoutes(router);
  registerMetricsRoutes(router);
  registerJobRoutes(router);
  registerAllocationRoutes(router);
  registerEvaluationRoutes(router);
  registerNodeRoutes(router);
  registerAclTokenRoutes(router);
  registerAclPolicyRoutes(router);
  registerVariableRoutes(router);
  return router;
}

/** Starts the HTTP API on `host:port` and resolves once it listens. */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const router = buildApiRouter();
  const log = options.logger.child({ component: 'http' });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // One controller per request in progress. close() aborts them all, so blocking queries stop
  // waiting at once instead of when their sockets close. A single shared signal combined per
  // request with AbortSignal.any would leak, because on Node 20.20 every combined signal stays
  // reachable from the shared one (measured: heap grows by about 5 MB per 100,000 requests).
  const inProgress = new Set<AbortController>();

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((err: unknown) => {
      // handleRequest catches handler errors itself, so reaching this is a bug in the error path.
      log.error({ err, method: req.method, path: pathOf(req.url) }, 'failed to write an HTTP response');
      res.destroy();
    });
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const path = pathOf(rawUrl);
    const controller = new AbortController();
    inProgress.add(controller);
    res.on('close', () => {
      inProgress.delete(controller);
      if (!res.writableFinished) controller.abort();
    });
    // Errors of a request whose client went away surface here; the response close handles them.
    req.on('error', (err) => log.debug({ err, method, path }, 'HTTP request stream failed'));
    res.on('error', (err) => log.debug({ err, method, path }, 'HTTP response stream failed'));

    let reply: ApiReply;
    try {
      reply = await dispatch(req, method, rawUrl, path, controller.signal);
    } catch (err) {
      reply = errorReply(err, method, path);
    }
    writeReply(res, reply);
  }

  async function dispatch(
    req: IncomingMessage,
    method: string,
    rawUrl: string,
    path: string,
    signal: AbortSignal,
  ): Promise<ApiReply> {
    if (!isDecodable(path)) {
      throw new RequestError(400, `Invalid URL path ${JSON.stringify(path)}: malformed percent-encoding`);
    }
    const match = router.match(method, path);
    if (match.kind === 'not-found')
      throw new RequestError(404, `Invalid URL path: no API endpoint at ${path}`);
    if (match.kind === 'method-not-allowed') throw new RequestError(405, 'Invalid method');

    // Every routed request passes here, before its handler reads the body. An unknown path or
    // method gets its 404 or 405 first, as in Nomad, whose HTTP router runs before any RPC checks
    // a token. The ACL is resolved once here, so that a handler's checks all see the same
    // policies. Each handler checks its own capability, because some depend on the body or on the
    // rows found.
    const query = new URLSearchParams(queryOf(rawUrl));
    const access = await resolveRequestAccess(
      match.auth,
      { method, path, query, headers: req.headers },
      options.backend,
      log,
    );
    const request: ApiRequest = {
      method,
      path,
      params: match.params,
      query,
      headers: req.headers,
      backend: options.backend,
      principal: access.principal,
      acl: access.acl,
      consistent: access.consistent,
      signal,
      readJson: () => readJsonBody(req, maxBodyBytes),
    };
    return options.backend.withWriteTerm(access.writeTerm, () => match.handler(request));
  }

  function errorReply(err: unknown, method: string, path: string): ApiReply {
    if (err instanceof RequestError) {
      // Rejections of bad input are routine; a 5xx (no leader, a failed commit) is the server's problem.
      const level = err.status >= 500 ? 'warn' : 'debug';
      log[level]({ status: err.status, method, path, reason: err.message }, 'HTTP request failed');
      // After a 413 the rest of the body is still unread, so this connection cannot carry another request.
      const headers: Record<string, string> = err.status === 413 ? { Connection: 'close' } : {};
      return { status: err.status, headers, body: { kind: 'text', value: err.message, contentType: TEXT } };
    }
    // Only the method and path are logged: bodies and query strings may contain secrets.
    log.error({ err, method, path }, 'HTTP handler failed');
    return {
      status: 500,
      body: {
        kind: 'text',
        value: 'Internal server error: see the server log for details',
        contentType: TEXT,
      },
    };
  }

  await listen(server, options.host, options.port);
  const port = (server.address() as AddressInfo).port;
  log.info({ host: options.host, port }, 'HTTP API listening');

  return {
    port,
    close: () => {
      for (const controller of inProgress) controller.abort();
      return closeServer(server);
    },
  };
}

const TEXT = 'text/plain; charset=utf-8';

function writeReply(res: ServerResponse, reply: ApiReply): void {
  if (res.destroyed || res.headersSent) return;
  res.statusCode = reply.status ?? 200;
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);

  const body = reply.body;
  if (body.kind === 'empty') {
    res.end();
    return;
  }
  if (body.kind === 'binary') {
    res.setHeader('Content-Type', body.contentType);
    res.setHeader(
      'Content-Length',
      body.chunks.reduce((total, chunk) => total + chunk.byteLength, 0),
    );
    for (const chunk of body.chunks) res.write(chunk);
    res.end();
    return;
  }
  const text = body.kind === 'json' ? JSON.stringify(body.value) : body.value;
  res.setHeader('Content-Type', body.kind === 'json' ? 'application/json' : body.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const question = raw.indexOf('?');
  return question === -1 ? raw : raw.slice(0, question);
}

function queryOf(url: string): string {
  const question = url.indexOf('?');
  return question === -1 ? '' : url.slice(question + 1);
}

function isDecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // Blocking queries hold their connections for minutes; end them instead of waiting.
    server.closeAllConnections();
  });
}
