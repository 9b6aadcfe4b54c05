import type { Message } from '../../src/raft/messages.js';

/** One-line summary of a message for traces. */
export function describeMessage(message: Message): string {
  const head = `${message.from}->${message.to} ${message.type} t${message.term}`;
  switch (message.type) {
    case 'vote-request':
      return `${head}${message.preVote ? ' pre' : ''} last=${message.lastLogIndex}@${message.lastLogTerm}${message.transfer ? ' transfer' : ''}`;
    case 'vote-response':
      return `${head}${message.preVote ? ' pre' : ''} ${message.granted ? 'granted' : 'rejected'}`;
    case 'append-request': {
      const first = message.entries[0]?.index;
      const range = first === undefined ? 'none' : `${first}..${message.entries.at(-1)!.index}`;
      return `${head} prev=${message.prevIndex}@${message.prevTerm} entries=${range} commit=${message.commit}`;
    }
    case 'append-response':
      return `${head} ${message.success ? 'ok' : 'reject'} index=${message.index} hint=${message.hintIndex}@${message.hintTerm}`;
    case 'heartbeat-request':
      return `${head} commit=${message.commit} round=${message.readRound}`;
    case 'heartbeat-response':
      return `${head} round=${message.readRound}`;
    case 'snapshot-request':
      return `${head} snapshot=${message.meta.index}@${message.meta.term} offset=${message.offset} bytes=${message.data.length}${message.done ? ' done' : ''}`;
    case 'snapshot-response':
      return `${head} snapshot=${message.snapshotIndex} next=${message.nextOffset}${message.installed ? ' installed' : ''} last=${message.lastIndex}`;
    case 'timeout-now':
      return head;
    case 'read-index-request':
      return `${head} request=${message.requestId}`;
    case 'read-index-response':
      return `${head} request=${message.requestId} index=${message.index}`;
  }
}
