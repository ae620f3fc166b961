#!/bin/sh
# metrics.sh: the metrics endpoint serves Prometheus text with the HTTP layer's
# counters after plugin requests, and the store's size.
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
check "plugin calls by method and result" sh -c "printf '%s\n' \"\$1\" | grep -qE '^netcrave_http_route_requests_total\\{server=\"plugin\",route=\"/Plugin.Activate\",code=\"2xx\"\\} [1-9]'" - "$out"
check "plugin latency by method" sh -c "printf '%s\n' \"\$1\" | grep -qE '^netcrave_http_route_duration_seconds_count\\{server=\"plugin\",route=\"/Plugin.Activate\"\\} [1-9]'" - "$out"
# The store's size: a pool is one durable record more.
plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":{},"V6":false}' >/dev/null
out=$(curl -s --unix-socket "$METRICS_SOCK" http://localhost/metrics)
records=$(printf '%s\n' "$out" | awk '$1 == "netcrave_store_records{backend=\"file\"}" { print $2 }')
journal=$(printf '%s\n' "$out" | awk '$1 == "netcrave_store_journal_bytes{backend=\"file\"}" { print $2 }')
check "store records counted (got '$records')" [ "${records:-0}" -ge 1 ]
check "store journal bytes (got '$journal')" [ "${journal:-0}" -gt 0 ]
code=$(curl -s --unix-socket "$METRICS_SOCK" -o /dev/null -w '%{http_code}' http://localhost/nothing)
check "unknown metrics path: 404" [ "$code" = 404 ]
nc_stop
check "metrics socket removed" [ ! -e "$METRICS_SOCK" ]
finish
