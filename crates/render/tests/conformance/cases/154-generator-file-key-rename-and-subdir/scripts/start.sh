#!/bin/sh
set -eu
exec /app/server --config /etc/app/config.yaml "$@"
