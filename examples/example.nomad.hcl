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

      # The task's workload identity, signed by the leader when it places the allocation: in
      # secrets/nomad_token (owner-only) and in NOMAD_TOKEN. Any server verifies it.
      identity {
        env  = true
        file = true
      }

      # The client renders this into local/about.txt before the task starts. With "noop", a
      # re-render leaves the running task alone.
      template {
        data        = "job {{ env \"NOMAD_JOB_ID\" }} in {{ env \"NOMAD_NAMESPACE\" }}\n"
        destination = "local/about.txt"
        change_mode = "noop"
      }

      kill_timeout = "5s"
    }
  }
}
