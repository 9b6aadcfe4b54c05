import type { Node, NodeStatus } from '../structs/node.js';
import { readRecord } from './collection-fields.js';
import type { FieldErrorFactory } from './errors.js';
import { DESCRIPTION, readId } from './eval-fields.js';
import { readBoolean, readEnum, readFields, readInteger, readString } from './fields.js';
import { readIndex, readResources } from './job-fields.js';
import { MAX_DESCRIPTION_BYTES, MAX_MAP_ENTRIES, MAX_NAME_BYTES } from './limits.js';

export const NODE_STATUSES: readonly NodeStatus[] = Object.freeze([
  'initializing',
  'ready',
  'down',
  'disconnected',
]);

const NAME = { minBytes: 1, maxBytes: MAX_NAME_BYTES } as const;

const NODE_FIELDS = [
  'ID',
  'SecretID',
  'Name',
  'Datacenter',
  'NodeClass',
  'Status',
  'StatusDescription',
  'SchedulingEligibility',
  'NodeResources',
  'Drivers',
  'Attributes',
  'StatusUpdatedAt',
  'CreateIndex',
  'ModifyIndex',
] as const;

/** Checks a node in Nomad's JSON shape, SecretID included, and returns a deeply frozen copy. */
export function readNode(value: unknown, field: string, fail: FieldErrorFactory): Node {
  const f = readFields(value, field, NODE_FIELDS, fail);
  return Object.freeze({
    ID: readId(f.ID, `${field}.ID`, fail),
    SecretID: readId(f.SecretID, `${field}.SecretID`, fail),
    Name: readString(f.Name, `${field}.Name`, fail, NAME),
    Datacenter: readString(f.Datacenter, `${field}.Datacenter`, fail, NAME),
    NodeClass: readString(f.NodeClass, `${field}.NodeClass`, fail, { maxBytes: MAX_NAME_BYTES }),
    Status: readEnum(f.Status, `${field}.Status`, fail, NODE_STATUSES),
    StatusDescription: readString(f.StatusDescription, `${field}.StatusDescription`, fail, DESCRIPTION),
    SchedulingEligibility: readEnum(f.SchedulingEligibility, `${field}.SchedulingEligibility`, fail, [
      'eligible',
      'ineligible',
    ]),
    NodeResources: readResources(f.NodeResources, `${field}.NodeResources`, fail),
    Drivers: readRecord(f.Drivers, `${field}.Drivers`, fail, MAX_MAP_ENTRIES, NAME, (entry, entryField) => {
      const driver = readFields(entry, entryField, ['Detected', 'Healthy'], fail);
      return Object.freeze({
        Detected: readBoolean(driver.Detected, `${entryField}.Detected`, fail),
        Healthy: readBoolean(driver.Healthy, `${entryField}.Healthy`, fail),
      });
    }),
    Attributes: readRecord(
      f.Attributes,
      `${field}.Attributes`,
      fail,
      MAX_MAP_ENTRIES,
      NAME,
      (entry, entryField) => readString(entry, entryField, fail, { maxBytes: MAX_DESCRIPTION_BYTES }),
    ),
    // Unix seconds, as Nomad reports StatusUpdatedAt; 2^40 s is far past any real clock.
    StatusUpdatedAt: readInteger(f.StatusUpdatedAt, `${field}.StatusUpdatedAt`, fail, 0, 2 ** 40),
    CreateIndex: readIndex(f.CreateIndex, `${field}.CreateIndex`, fail),
    ModifyIndex: readIndex(f.ModifyIndex, `${field}.ModifyIndex`, fail),
  });
}
