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

# This runtime logs through Log4j 2, which reads no log4j 1 file; Kafka 3.x's convention (and the
# operator's ConfigMap) is one. So a log4j 1 file is translated into a Log4j 2 one under /tmp (the one
# writable place): its root and logger levels and its console pattern, every appender the console.
translate_log4j1() {
  awk '
    function trim(s) { gsub(/^[ \t]+|[ \t\r]+$/, "", s); return s }
    /^[ \t]*[#!]/ || !/=/ { next }
    {
      key = trim(substr($0, 1, index($0, "=") - 1)); value = trim(substr($0, index($0, "=") + 1))
      split(value, words, ","); level = trim(words[1])
    }
    key == "log4j.rootLogger" { root = level }
    key ~ /^log4j\.logger\./ {
      n++
      printf "logger.l%d.name = %s\nlogger.l%d.level = %s\n", n, substr(key, length("log4j.logger.") + 1), n, level
    }
    key ~ /^log4j\.appender\.[^.]+\.layout\.ConversionPattern$/ && pattern == "" { pattern = value }
    END {
      print "status = warn"
      print "appender.stdout.type = Console"
      print "appender.stdout.name = stdout"
      print "appender.stdout.layout.type = PatternLayout"
      print "appender.stdout.layout.pattern = " (pattern == "" ? "[%d] %p %m (%c)%n" : pattern)
      print "rootLogger.level = " (root == "" ? "INFO" : root)
      print "rootLogger.appenderRef.stdout.ref = stdout"
    }' "$1"
}

KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:-"-Dlog4j.configuration=file:$base_dir/config/tools-log4j.properties"}
case $KAFKA_LOG4J_OPTS in
  *log4j2.configurationFile*) ;;
  *-Dlog4j.configuration=file:*)
    log4j1=${KAFKA_LOG4J_OPTS##*-Dlog4j.configuration=file:}
    log4j1=${log4j1%% *}
    log4j2=$(mktemp --suffix=.properties "${TMPDIR:-/tmp}/log4j2-XXXXXX")
    translate_log4j1 "$log4j1" >"$log4j2"
    KAFKA_LOG4J_OPTS="$KAFKA_LOG4J_OPTS -Dlog4j2.configurationFile=$log4j2"
    ;;
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
