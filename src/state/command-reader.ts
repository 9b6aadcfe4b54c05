/** Reads the payload of one version of one command type. */
export interface CommandReader<Command> {
  /** Payload fields besides `type` and `v`; no other field is accepted. */
  readonly fields: readonly string[];
  read(fields: Record<string, unknown>): Command;
}

/** Builds the readers of one command type, by version. */
export function versions<Command>(
  ...readers: [version: number, fields: readonly string[], read: CommandReader<Command>['read']][]
): ReadonlyMap<number, CommandReader<Command>> {
  return new Map(readers.map(([version, fields, read]) => [version, { fields, read }]));
}
