import { Packr } from 'msgpackr';

/**
 * Codec for Raft log commands and state snapshots. Plain MessagePack maps (no records and no
 * shared structure table) so that every log entry and snapshot decodes on its own, on any server
 * and after any restart. 64-bit integers stay BigInts, which the field readers reject instead of
 * rounding.
 */
export const statePackr = new Packr({ useRecords: false, mapsAsObjects: true });
