#!/bin/bash
# Starts a distributed Connect worker, as Apache Kafka's connect-distributed.sh does (same defaults).
set -eu
if [ $# -lt 1 ]; then
  echo "USAGE: $0 connect-distributed.properties" >&2
  exit 1
fi
base_dir=$(cd "$(dirname "$0")" && pwd)
export KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:-"-Dlog4j.configuration=file:$base_dir/../config/connect-log4j.properties"}
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:-"-Xms256M -Xmx2G"}
EXTRA_ARGS=${EXTRA_ARGS-'-name connectDistributed'}
# shellcheck disable=SC2086
exec "$base_dir/kafka-run-class.sh" $EXTRA_ARGS org.apache.kafka.connect.cli.ConnectDistributed "$@"
