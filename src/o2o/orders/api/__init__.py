"""The order center's HTTP API, one module per noun; ``o2o.config.api`` mounts these routers."""
