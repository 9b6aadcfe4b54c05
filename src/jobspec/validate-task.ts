import { posix } from 'node:path';
import type { Task, Template } from '../structs/job.js';
import { JOB_LIMITS } from './defaults.js';
import { type Place, type ProblemList, placeInside } from './problems.js';
import { invalidChangeMode, isChangeMode } from './template-change-modes.js';
import { checkIdentities } from './validate-identity.js';

export function checkTask(task: Task, place: Place, problems: ProblemList): void {
  checkTaskName(task.Name, place, problems);
  if (task.Driver === '') problems.add(place, 'Driver', 'Missing task driver');

  const { CPU, MemoryMB } = task.Resources;
  if (!Number.isInteger(CPU) || CPU < JOB_LIMITS.MinCPU) {
    problems.add(place, 'Resources.CPU', `minimum CPU value is ${JOB_LIMITS.MinCPU}; got ${CPU}`);
  }
  if (!Number.isInteger(MemoryMB) || MemoryMB < JOB_LIMITS.MinMemoryMB) {
    problems.add(
      place,
      'Resources.MemoryMB',
      `minimum MemoryMB value is ${JOB_LIMITS.MinMemoryMB}; got ${MemoryMB}`,
    );
  }

  // Nomad's message reads "positive", but its check, like this one, accepts 0.
  if (!Number.isInteger(task.KillTimeout) || task.KillTimeout < 0) {
    problems.add(place, 'KillTimeout', 'KillTimeout must be a positive value');
  }

  checkIdentities(task, place, problems);
  checkTemplates(task.Templates, place, problems);
}

function checkTaskName(name: string, place: Place, problems: ProblemList): void {
  if (name === '') {
    problems.add(place, 'Name', 'Missing task name');
    return;
  }
  // The task name is a folder name beside the allocation's shared `alloc` folder.
  if (name === 'alloc') problems.add(place, 'Name', 'Task cannot be named "alloc"');
  if (name === '.' || name === '..') problems.add(place, 'Name', `Task cannot be named "${name}"`);
  if (/[/\\]/.test(name)) problems.add(place, 'Name', 'Task name cannot include slashes');
  else if (name.includes('\0')) problems.add(place, 'Name', 'Task name cannot include null characters');
}

function checkTemplates(templates: readonly Template[], taskPlace: Place, problems: ProblemList): void {
  const destinations = new Map<string, number>();
  templates.forEach((template, index) => {
    const place = placeInside(taskPlace, `Templates[${index}]`, `template[${index}]`);
    checkTemplate(template, place, problems);

    const first = destinations.get(template.DestPath);
    if (first === undefined) destinations.set(template.DestPath, index);
    else problems.add(place, 'DestPath', `Template ${index + 1} has same destination as ${first + 1}`);
  });
}

function checkTemplate(template: Template, place: Place, problems: ProblemList): void {
  if (template.EmbeddedTmpl === '') {
    problems.add(place, 'EmbeddedTmpl', 'Must specify an embedded template (EmbeddedTmpl, or data in HCL)');
  }
  if (template.DestPath === '') {
    problems.add(place, 'DestPath', 'Must specify a destination for the template');
  } else if (escapesAllocation(template.DestPath)) {
    problems.add(place, 'DestPath', 'destination escapes allocation directory');
  }

  if (!isChangeMode(template.ChangeMode))
    problems.add(place, 'ChangeMode', invalidChangeMode(template.ChangeMode));
  if (template.ChangeMode === 'signal' && template.Envvars) {
    problems.add(place, 'ChangeMode', 'cannot use signals with env var templates');
  }
}

/**
 * True when a destination, taken relative to the task folder as Nomad does (even when it starts
 * with `/`), leaves the allocation folder. `../alloc/x` stays inside it: that is the shared folder.
 */
function escapesAllocation(destination: string): boolean {
  const allocation = '/allocation';
  const target = posix.join(allocation, 'task', destination);
  return posix.relative(allocation, target).startsWith('..');
}

/**
 * Reports each element whose name repeats an earlier one, in Nomad's words: `Task 2 redefines
 * 'redis' from task 1` (1-based). Elements without a name are left to their own name check.
 */
export function checkUniqueNames(
  items: readonly { readonly Name: string }[],
  place: Place,
  field: string,
  prefix: string,
  kind: string,
  problems: ProblemList,
): void {
  const first = new Map<string, number>();
  items.forEach((item, index) => {
    if (item.Name === '') return;
    const earlier = first.get(item.Name);
    if (earlier === undefined) first.set(item.Name, index);
    else {
      problems.add(
        place,
        `${field}[${index}].Name`,
        `${prefix} ${index + 1} redefines '${item.Name}' from ${kind} ${earlier + 1}`,
      );
    }
  });
}
