/**
 * A delay proxy as a process of its own, started by the fault runner inside one server's network
 * namespace: `node --import tsx delay-proxy-process.ts --listen HOST:PORT --target HOST:PORT --seed N`.
 * It prints `listening` once it listens, then reads SetRulesCommand lines on stdin and replies to
 * each. It exits when stdin ends, so it also goes when the runner dies without stopping it.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Prng } from '../../../test/sim/prng.js';
import { DelayProxy } from './delay-proxy.js';
import type { DelayProxyReply, SetRulesCommand } from './delay-proxy-protocol.js';

function reply(message: DelayProxyReply): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Splits `HOST:PORT`, and raises naming `option` when the value has another form. */
function parseEndpoint(option: string, value: string | undefined): { host: string; port: number } {
  const match = /^(.+):(\d+)$/.exec(value ?? '');
  const port = Number(match?.[2]);
  if (match === null || port > 65_535)
    throw new Error(`invalid ${option} ${JSON.stringify(value)}: expected HOST:PORT`);
  return { host: match[1]!, port };
}

function parseCommand(line: string): SetRulesCommand {
  const command = JSON.parse(line) as SetRulesCommand;
  if (!Number.isInteger(command.id) || !Array.isArray(command.rules))
    throw new Error(`invalid command ${line}: expected {"id": integer, "rules": [...]}`);
  return command;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { listen: { type: 'string' }, target: { type: 'string' }, seed: { type: 'string' } },
    strict: true,
  });
  const listen = parseEndpoint('--listen', values.listen);
  const target = parseEndpoint('--target', values.target);
  const seed = Number(values.seed ?? '0');
  const proxy = await DelayProxy.start({
    listenHost: listen.host,
    listenPort: listen.port,
    targetHost: target.host,
    targetPort: target.port,
    random: new Prng(seed),
  });
  reply({ type: 'listening', port: proxy.port });

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let id: number | null = null;
    try {
      const command = parseCommand(line);
      id = command.id;
      proxy.setRules(command.rules);
      reply({ type: 'applied', id });
    } catch (err) {
      reply({ type: 'error', id, message: (err as Error).message });
    }
  });
  lines.once('close', () => {
    void proxy.close().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`delay proxy failed: ${(err as Error).message}\n`);
  process.exit(1);
});
