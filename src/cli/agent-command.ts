import type { Command } from 'commander';

/** Registers `signet agent`; the agent code loads only when the command runs, so other commands start fast. */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description(
      'run a Signet agent: a server with -server, a client with -client, or both on 127.0.0.1 with -dev',
    )
    .option('--server', 'run as a server')
    .option(
      '--dev',
      'run a server and a client in one process on 127.0.0.1, with ACLs bootstrapped, raw_exec enabled and a temporary data folder (removed on exit unless -data-dir is given)',
    )
    .option('--client', 'run as a client that runs tasks (sets client.enabled)')
    .option(
      '--servers <addrs>',
      'server RPC addresses that a client dials, comma-separated host:port (sets client.servers; port 4647 when omitted)',
    )
    .option('--config <file...>', 'agent configuration file, HCL or JSON (repeatable; later files win)')
    .option(
      '--data-dir <dir>',
      'folder for the agent state: Raft log and snapshots, or the client node and allocations (sets data_dir)',
    )
    .option('--bind <addr>', 'address the HTTP API and server RPC listen on (sets bind_addr; servers only)')
    .option(
      '--bootstrap-expect <n>',
      'servers to wait for before the first election (sets server.bootstrap_expect)',
    )
    .option('--retry-join <addr...>', 'server RPC address to join, host or host:port (repeatable)')
    .option('--node <name>', 'node name, unique in the cluster (sets name)')
    .option(
      '--encrypt <key>',
      'cluster key, 32 bytes in base64 (sets server.encrypt; wins over SIGNET_ENCRYPT, which wins over config files)',
    )
    .option('--http-port <port>', 'port of the HTTP API (sets ports.http; default 4646)')
    .option('--rpc-port <port>', 'port of the server RPC (sets ports.rpc; default 4647)')
    .option('--log-level <level>', 'trace, debug, info, warn or error (sets log_level)')
    .action(async (flags: Record<string, unknown>) => {
      const { runAgent } = await import('./agent-main.js');
      process.exitCode = await runAgent(flags);
    });
}
