#!/bin/sh
# metrics.sh: the metrics endpoint serves Prometheus text with the HTTP layer's
# counters after plugin requests.
. "$(dirname "$0")/lib.sh"

nc_write_conf
nc_start || finish
plugin_call /Plugin.Activate >/dev/null
plugin_call /NetworkDriver.CreateNetwork '{}' >/dev/null
out=$(curl -s --unix-socket "$METRICS_SOCK" http://localhost/metrics)
check "metrics has HELP/TYPE lines" contains "$out" "# TYPE netcrave_http_requests_total counter"
check "plugin 2xx requests counted" contains "$out" 'netcrave_http_requests_total{server="plugin",code="2xx"}'
check "plugin 5xx requests counted" contains "$out" 'netcrave_http_requests_total{server="plugin",code="5xx"}'
check "latency histogram" contains "$out" 'netcrave_http_request_duration_seconds_bucket{server="plugin",le="+Inf"}'
code=$(curl -s --unix-socket "$METRICS_SOCK" -o /dev/null -w '%{http_code}' http://localhost/nothing)
check "unknown metrics path: 404" [ "$code" = 404 ]
nc_stop
check "metrics socket removed" [ ! -e "$METRICS_SOCK" ]
finish
