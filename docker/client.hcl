# Agent configuration of the clients c1 and c2 in docker-compose.yml, mounted read-only at
# /opt/signet/config/client.hcl. Each container passes its own -node name. Clients do not use the
# cluster key: they authenticate to the servers with the secret of their node.

# The named volume of each client is mounted here: the node identity and the allocation folders.
data_dir = "/opt/signet/data"

client {
  enabled = true
  # Service names of the servers; the RPC port defaults to 4647.
  servers = ["s1", "s2", "s3"]
}

# raw_exec runs tasks as the container's user (node), without further isolation.
plugin "raw_exec" {
  config {
    enabled = true
  }
}
