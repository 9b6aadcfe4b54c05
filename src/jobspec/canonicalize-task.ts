import type { Resources, Task, Template } from '../structs/job.js';
import { decodeIdentity } from './canonicalize-identity.js';
import { decodeList } from './decode-list.js';
import { JOB_DEFAULTS } from './defaults.js';
import { JsonFields } from './json-fields.js';
import { RESOURCES_FIELDS, TASK_FIELDS, TEMPLATE_FIELDS } from './nomad-fields.js';
import { type Place, type ProblemList, placeInside } from './problems.js';
import { invalidChangeMode, isChangeMode } from './template-change-modes.js';

export function decodeTask(
  input: Readonly<Record<string, unknown>>,
  place: Place,
  problems: ProblemList,
): Task {
  const fields = new JsonFields(input, TASK_FIELDS, place, problems);
  const env = fields.stringMap('Env');
  const identityInput = fields.object('Identity');
  let identity =
    identityInput === null
      ? null
      : decodeIdentity(identityInput, placeInside(place, 'Identity', 'identity'), problems);
  const identities = decodeList(
    fields.array('Identities'),
    place,
    'Identities',
    'identity',
    problems,
    decodeIdentity,
  );

  // As Nomad does, a default identity listed in Identities (where HCL's identity blocks go)
  // becomes Task.Identity, and validation reports any further one.
  const defaultIndex = identities.findIndex((candidate) => candidate.Name === JOB_DEFAULTS.IdentityName);
  if (identity === null && defaultIndex >= 0) {
    identity = identities[defaultIndex]!;
    identities.splice(defaultIndex, 1);
  }

  return {
    Name: fields.string('Name', ''),
    Driver: fields.string('Driver', ''),
    Config: fields.object('Config') ?? {},
    Env: env === null ? null : { ...env },
    Resources: decodeResources(
      fields.object('Resources') ?? {},
      placeInside(place, 'Resources', ''),
      problems,
    ),
    Identity: identity,
    Identities: identities,
    Templates: decodeList(
      fields.array('Templates'),
      place,
      'Templates',
      'template',
      problems,
      decodeTemplate,
    ),
    KillTimeout: fields.integer('KillTimeout', JOB_DEFAULTS.KillTimeout),
  };
}

function decodeResources(
  input: Readonly<Record<string, unknown>>,
  place: Place,
  problems: ProblemList,
): Resources {
  const fields = new JsonFields(input, RESOURCES_FIELDS, place, problems);
  return {
    CPU: fields.integer('CPU', JOB_DEFAULTS.CPU),
    MemoryMB: fields.integer('MemoryMB', JOB_DEFAULTS.MemoryMB),
  };
}

/** The signal Nomad sends in `signal` mode when the template names none, and the only one Signet sends. */
const TEMPLATE_SIGNAL = 'SIGHUP';

function decodeTemplate(
  input: Readonly<Record<string, unknown>>,
  place: Place,
  problems: ProblemList,
): Template {
  const fields = new JsonFields(input, TEMPLATE_FIELDS, place, problems);

  const changeMode = fields.string('ChangeMode', JOB_DEFAULTS.TemplateChangeMode);
  if (!isChangeMode(changeMode)) problems.add(place, 'ChangeMode', invalidChangeMode(changeMode));

  // Template has no ChangeSignal field, so a signal other than Nomad's default cannot be honoured.
  const signal = fields.string('ChangeSignal', '').toUpperCase();
  if (signal !== '' && signal !== TEMPLATE_SIGNAL) {
    problems.add(
      place,
      'ChangeSignal',
      `ChangeSignal ${JSON.stringify(signal)} is not supported: Signet sends ${TEMPLATE_SIGNAL} in signal mode`,
    );
  }
  if (fields.string('SourcePath', '') !== '') {
    problems.add(place, 'SourcePath', 'SourcePath is not supported: give the template text in EmbeddedTmpl');
  }

  return {
    DestPath: fields.string('DestPath', ''),
    EmbeddedTmpl: fields.string('EmbeddedTmpl', ''),
    ChangeMode: isChangeMode(changeMode) ? changeMode : JOB_DEFAULTS.TemplateChangeMode,
    Envvars: fields.boolean('Envvars', false),
  };
}
