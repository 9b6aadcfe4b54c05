/**
 * Steps of a takeover, as the surviving servers' agent logs record them in pino JSON lines. Each
 * is a `time` in Unix ms, or null when the log has no such line after the kill.
 */
export interface TakeoverSteps {
  /** First survivor to stop following: its election timeout ran out and it started a PreVote. */
  readonly campaignAtMs: number | null;
  /** The new leader's `became leader` line. */
  readonly electedAtMs: number | null;
  /**
   * The new leader's `leader services started` line: its ReadIndex barrier completed, the root
   * key is applied, and the evaluation broker, workers and plan applier run.
   */
  readonly servicesAtMs: number | null;
}

interface LogLine {
  readonly time?: number;
  readonly msg?: string;
}

/** Parses the JSON lines of an agent log that were written at or after `sinceMs`, skipping others. */
function linesSince(log: string, sinceMs: number): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of log.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      const line = JSON.parse(text) as LogLine;
      if (typeof line.time === 'number' && line.time >= sinceMs) lines.push(line);
    } catch {
      // A line cut short by the kill, or output that is not pino's.
    }
  }
  return lines;
}

function firstTime(lines: readonly LogLine[], matches: (msg: string) => boolean): number | null {
  return lines.find((line) => line.msg !== undefined && matches(line.msg))?.time ?? null;
}

/**
 * Reads the takeover steps from the logs of the survivors (`survivorLogs`, the new leader's among
 * them as `leaderLog`), written at or after `killedAtMs`. The log times have a resolution of 1 ms.
 */
export function readTakeoverSteps(
  survivorLogs: readonly string[],
  leaderLog: string,
  killedAtMs: number,
): TakeoverSteps {
  const campaigns = survivorLogs
    .map((log) => firstTime(linesSince(log, killedAtMs), (msg) => msg.endsWith('candidate')))
    .filter((time): time is number => time !== null);
  const leaderLines = linesSince(leaderLog, killedAtMs);
  const electedAtMs = firstTime(leaderLines, (msg) => msg === 'became leader');
  const servicesAtMs =
    electedAtMs === null
      ? null
      : firstTime(
          leaderLines.filter((line) => (line.time ?? 0) >= electedAtMs),
          (msg) => msg.startsWith('leader services started'),
        );
  return {
    campaignAtMs: campaigns.length === 0 ? null : Math.min(...campaigns),
    electedAtMs,
    servicesAtMs,
  };
}
