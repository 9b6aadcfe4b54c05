# A service job with one task that sleeps for an hour, run with the raw_exec driver.
# Run it with: signet job run examples/example.nomad.hcl
# Clients run raw_exec tasks only when their configuration enables the driver:
#   plugin "raw_exec" { config { enabled = true } }

job "example" {
  datacenters = ["*"]
  type        = "service"

  group "cache" {
    count = 1

    task "redis" {
      driver = "raw_exec"

      config {
        command = "/bin/sleep"
        args    = ["3600"]
      }

      env {
        GREETING = "hello"
      }

      resources {
        cpu    = 100 # MHz
        memory = 128 # MB
      }

            # Asks for the task's workload identity in secrets/nomad_token. Servers accept the block, but
      # NOTE: Signet does not sign identities yet, so the file is not written.
      identity {
        env  = false
        file = true
      }

            # NOTE: accepted but not rendered yet: clients do not run templates so far.
      template {
        data        = "job {{ env \"NOMAD_JOB_ID\" }} in {{ env \"NOMAD_NAMESPACE\" }}\n"
        destination = "local/about.txt"
        change_mode = "noop"
      }

      kill_timeout = "5s"
    }
  }
}
