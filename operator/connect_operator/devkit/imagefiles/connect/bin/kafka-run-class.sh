#!/bin/bash
# Runs a Java class on Kafka's libs the way Apache Kafka's kafka-run-class.sh does, reading the same
# variables: KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_GC_LOG_OPTS, KAFKA_JMX_OPTS, JMX_PORT,
# KAFKA_LOG4J_OPTS, LOG_DIR, KAFKA_OPTS, CLASSPATH, JAVA_HOME. Written for this image (not copied):
# always in the foreground, and `exec java` so that the container's signals reach the JVM itself.
set -eu

if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
fi

base_dir=$(cd "$(dirname "$0")/.." && pwd)

CLASSPATH=${CLASSPATH:-}
for jar in "$base_dir"/libs/*.jar; do
  CLASSPATH=${CLASSPATH:+$CLASSPATH:}$jar
done

# Kafka's default is $base_dir/logs; this image's root is read-only, so /tmp (the one writable place).
LOG_DIR=${LOG_DIR:-/tmp/kafka-logs}
mkdir -p "$LOG_DIR"

GC_LOG_ENABLED=false
while [ $# -gt 0 ]; do
  case $1 in
    -name) shift 2 ;;  # the daemon's console log name: there is no daemon mode here
    -loggc) GC_LOG_ENABLED=true; shift ;;
    -daemon) echo "$0: -daemon is not supported in a container; running in the foreground" >&2; shift ;;
    *) break ;;
  esac
done

if [ -z "${KAFKA_JMX_OPTS:-}" ]; then
  KAFKA_JMX_OPTS="-Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
fi
if [ -n "${JMX_PORT:-}" ]; then
  KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.port=$JMX_PORT"
  if [ -z "${KAFKA_JMX_OPTS##*rmi.port*}" ]; then :; else
    KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT"
  fi
fi

KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:-"-Dlog4j.configuration=file:$base_dir/config/tools-log4j.properties"}
# This runtime's logging backend is Log4j 2, which does not read log4j 1 files: unless the caller
# chose a Log4j 2 configuration, use the image's, which logs to stdout as the log4j 1 default does.
case $KAFKA_LOG4J_OPTS in
  *log4j2.configurationFile*) ;;
  *) KAFKA_LOG4J_OPTS="$KAFKA_LOG4J_OPTS -Dlog4j2.configurationFile=$base_dir/config/connect-log4j2.properties" ;;
esac
KAFKA_LOG4J_OPTS="-Dkafka.logs.dir=$LOG_DIR $KAFKA_LOG4J_OPTS"

KAFKA_OPTS=${KAFKA_OPTS:-}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:-"-Xmx256M"}
KAFKA_JVM_PERFORMANCE_OPTS=${KAFKA_JVM_PERFORMANCE_OPTS:-"-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true"}
KAFKA_GC_LOG_OPTS=${KAFKA_GC_LOG_OPTS:-}
if [ "$GC_LOG_ENABLED" = true ] && [ -z "$KAFKA_GC_LOG_OPTS" ]; then
  KAFKA_GC_LOG_OPTS="-Xlog:gc*:file=$LOG_DIR/gc.log:time,tags:filecount=10,filesize=100M"
fi

JAVA=java
if [ -n "${JAVA_HOME:-}" ]; then
  JAVA=$JAVA_HOME/bin/java
fi

# The options are split on spaces, as Kafka's script splits them.
# shellcheck disable=SC2086
exec "$JAVA" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $KAFKA_GC_LOG_OPTS $KAFKA_JMX_OPTS $KAFKA_LOG4J_OPTS \
  -cp "$CLASSPATH" $KAFKA_OPTS "$@"
