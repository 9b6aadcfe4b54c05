import type { Command } from 'commander';
import type { AllocListStub, NodeListStub, PublicNode } from '../http/routes/views.js';
import { allocationTable } from './alloc-table.js';
import { type ApiFlags, apiAction, clientFor, withApiFlags, withNamespaceFlag } from './api-command.js';
import { formatNanos, orNone, shortId } from './display.js';
import { findByPrefix } from './find-by-prefix.js';
import { type OutputFlags, outputChoice, printOutput, withOutputFlags } from './output-flags.js';
import { formatKeyValues, formatTable } from './table.js';

interface NodeFlags extends ApiFlags, OutputFlags {
  readonly verbose?: boolean;
}

/** Registers `node status`. Nodes belong to no namespace, so it ignores -namespace. */
export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('inspect client nodes');

  withOutputFlags(
    withNamespaceFlag(withApiFlags(node.command('status')), 'nodes belong to no namespace'),
    'node or the node list',
  )
    .description('list the client nodes, or show one node with its allocations')
    .argument('[id]', 'node ID or ID prefix')
    .option('--verbose', 'print full IDs instead of their first 8 characters', false)
    .action(
      apiAction(async (id: string | undefined, flags: NodeFlags) => {
        if (id === undefined) await listNodes(flags);
        else await showNode(id, flags);
      }),
    );
}

async function listNodes(flags: NodeFlags): Promise<void> {
  const output = outputChoice(flags);
  const { body } = await clientFor(flags).get<NodeListStub[]>('/v1/nodes');
  await printOutput(output, body, () =>
    body.length === 0 ? 'No nodes registered\n' : nodeTable(body, flags),
  );
}

function nodeTable(body: readonly NodeListStub[], flags: NodeFlags): string {
  const verbose = flags.verbose === true;
  const rows = body.map((node) => [
    shortId(node.ID, verbose),
    node.Datacenter,
    node.Name,
    orNone(node.NodeClass),
    node.SchedulingEligibility,
    node.Status,
  ]);
  return formatTable(['ID', 'DC', 'Name', 'Class', 'Eligibility', 'Status'], rows);
}

async function showNode(id: string, flags: NodeFlags): Promise<void> {
  const output = outputChoice(flags);
  const client = clientFor(flags);
  const node = await findByPrefix<PublicNode>(client, {
    id,
    noun: 'node(s)',
    listPath: '/v1/nodes',
    itemPath: (full) => `/v1/node/${encodeURIComponent(full)}`,
  });
  if (output.kind !== 'human') {
    await printOutput(output, node, () => '');
    return;
  }
  const allocs = (await client.get<AllocListStub[]>(`/v1/node/${encodeURIComponent(node.ID)}/allocations`))
    .body;

  const verbose = flags.verbose === true;
  const drivers = Object.entries(node.Drivers)
    .filter(([, driver]) => driver.Detected && driver.Healthy)
    .map(([name]) => name)
    .sort();
  const out = [
    formatKeyValues([
      ['ID', shortId(node.ID, verbose)],
      ['Name', node.Name],
      ['Class', orNone(node.NodeClass)],
      ['DC', node.Datacenter],
      ['Eligibility', node.SchedulingEligibility],
      ['Status', node.Status],
      ['Status Description', orNone(node.StatusDescription)],
      ['Status Updated', formatNanos(node.StatusUpdatedAt * 1_000_000_000)],
      ['Drivers', orNone(drivers.join(','))],
    ]),
    `\nNode Resources\n${formatTable(['CPU', 'Memory'], [[`${node.NodeResources.CPU} MHz`, `${node.NodeResources.MemoryMB} MiB`]])}`,
    '\nAllocations\n',
    allocs.length === 0 ? 'No allocations placed\n' : allocationTable(allocs, verbose),
  ];
  process.stdout.write(out.join(''));
}
