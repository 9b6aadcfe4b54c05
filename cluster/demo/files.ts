import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The job, group and task of the walk-through, as in Nomad's. */
export const JOB_ID = 'example';
export const GROUP = 'cache';
export const TASK = 'redis';

/** The variable that only the policy tied to the task grants: outside `nomad/jobs/...`, so no implicit access covers it. */
export const VARIABLE = {
  namespace: 'shared',
  path: 'shared/db',
  items: { user: 'app', password: 'hunter2' },
};
export const POLICY_NAME = 'shared-db-read';

/** A variable that no policy grants and no implicit rule covers: the task's identity must not read it. */
export const UNGRANTED_VARIABLE = {
  namespace: 'default',
  path: 'other/secret',
  items: { token: 's3cr3t' },
};

/** Line that the task prints once its template has rendered the variable into its environment. */
export const RENDERED_LINE = `db user from ${VARIABLE.path}: ${VARIABLE.items.user}`;

/**
 * Builds the job file: `count` allocations of group `cache`, whose task `redis` (raw_exec) gets
 * its workload identity as a file, renders `shared/db` through a template into its environment
 * with that identity, prints what it read and sleeps.
 */
export function jobFile(count: number): string {
  return `# The walk-through's job: the template reads ${VARIABLE.path} in namespace ${VARIABLE.namespace}
# with the task's workload identity, which only the policy tied to this task allows.
job "${JOB_ID}" {
  datacenters = ["*"]
  type        = "service"

  group "${GROUP}" {
    count = ${count}

    task "${TASK}" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "echo \\"db user from ${VARIABLE.path}: $DB_USER\\"; exec sleep 3600"]
      }

      identity {
        file = true
      }

      template {
        data        = "{{ with nomadVar \\"${VARIABLE.path}@${VARIABLE.namespace}\\" }}DB_USER={{ .user }}{{ end }}\\n"
        destination = "secrets/db.env"
        env         = true
        change_mode = "noop"
      }

      resources {
        cpu    = 100 # MHz
        memory = 64  # MB
      }
    }
  }
}
`;
}

/** Read access to the shared variables, and nothing else. */
export const POLICY_RULES = `namespace "${VARIABLE.namespace}" {
  variables {
    path "shared/*" {
      capabilities = ["read"]
    }
  }
}
`;

/** Writes the job file with `count` allocations into `dir` and returns its path. */
export async function writeJobFile(dir: string, count: number): Promise<string> {
  const path = join(dir, 'example.nomad.hcl');
  await writeFile(path, jobFile(count));
  return path;
}

export async function writePolicyFile(dir: string): Promise<string> {
  const path = join(dir, 'shared-db-read.policy.hcl');
  await writeFile(path, POLICY_RULES);
  return path;
}
