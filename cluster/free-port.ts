import { createServer, type Server } from 'node:net';

/**
 * Asks the OS for `count` distinct free TCP ports on `host`: it listens on port 0 that many times,
 * reads the ports, then closes the sockets.
 *
 * NOTE: this races with every other process on the machine. Another program can take a port
 * between the close here and the agent's own listen, so callers must handle EADDRINUSE from the
 * agent by trying again with new ports. Holding all sockets open until the end keeps the ports of
 * one call distinct from each other.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenOnAnyPort(server, host));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

function listenOnAnyPort(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`listen on ${host}:0 returned no TCP port`));
        return;
      }
      resolve(address.port);
    });
  });
}

/** Returns true when nothing listens on `host:port` now (the same race as `freePorts` applies). */
export async function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
