# Agent configuration of the servers s1, s2 and s3 in docker-compose.yml, mounted read-only at
# /opt/signet/config/server.hcl. Each container passes its own -node name, and the cluster key
# comes from SIGNET_ENCRYPT in the env file, so this file holds no secret.

# The named volume of each server is mounted here.
data_dir = "/opt/signet/data"

# Listen on every interface of the container. The address announced to the other servers is the
# container's first non-loopback IPv4 address, the one on the compose network.
bind_addr = "0.0.0.0"

server {
  enabled          = true
  bootstrap_expect = 3

  # Service names, resolved by the compose network's DNS; the RPC port defaults to 4647. Each
  # server may list itself: a link that reaches its own server stops dialing.
  server_join {
    retry_join = ["s1", "s2", "s3"]
  }
}

acl {
  enabled = true
}
