/**
 * Builds HCL rules of at most `bytes` bytes (and within one block of it) from namespace blocks
 * that each grant write and a variables path, so that parsing it costs what a real policy costs.
 */
export function largePolicy(bytes: number): string {
  const blocks: string[] = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const block =
      `namespace "team-${i}" {\n  policy = "write"\n  variables {\n` +
      `    path "apps/team-${i}/*" { capabilities = ["read", "list"] }\n  }\n}\n`;
    if (size + block.length > bytes) return blocks.join('');
    blocks.push(block);
    size += block.length;
  }
}
