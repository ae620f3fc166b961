#!/bin/sh
# config.sh: -n checks the config, -nv prints the normalised config (diffed against
# golden files), and errors name file:line:column and the key.
. "$(dirname "$0")/lib.sh"

golden=$top_srcdir/tests/integration/golden

echo '{}' > "$T/empty.json"
"$NETCRAVED" -nv -c "$T/empty.json" > "$T/out" 2> "$T/err"
check "-nv on an empty object matches golden/default.json" diff -u "$golden/default.json" "$T/out"
"$NETCRAVED" -nv -c "$golden/full.in.json" > "$T/out" 2> "$T/err"
check "-nv on every key matches golden/full.out.json" diff -u "$golden/full.out.json" "$T/out"
"$NETCRAVED" -nv -c "$T/out" > "$T/out2" 2>&1
check "normalised output is a fixed point" diff -u "$T/out" "$T/out2"
"$NETCRAVED" -n -c "$T/empty.json" 2> "$T/err" && rc=0 || rc=$?
check "-n on a valid file: exit 0" [ "$rc" = 0 ]
check "-n says configuration OK" grep -q "configuration OK" "$T/err"

# expect_error FILE_CONTENT TEXT: -n must fail and print TEXT.
expect_error() {
	printf '%s\n' "$1" > "$T/bad.json"
	"$NETCRAVED" -n -c "$T/bad.json" > "$T/err" 2>&1 && _rc=0 || _rc=$?
	if [ "$_rc" -ne 0 ] && grep -qF -- "$2" "$T/err"; then
		ok "rejected: $2"
	else
		fail "expected failure with '$2', got rc=$_rc: $(cat "$T/err")"
	fi
}
expect_error '{ "instanc": "x" }' "$T/bad.json:1:3: instanc"
expect_error '{
  "http": {
    "max_body_bytes": "big"
  }
}' "$T/bad.json:3:23: http.max_body_bytes"
expect_error '{ "instance": "Bad Name" }' "$T/bad.json:1:15: instance"
expect_error '{ "paths": { "run_dir": "relative/dir" } }' "paths.run_dir"
expect_error '{ "instance": "a", }' "$T/bad.json:1:"
expect_error '{ "log_level": "loud" }' "log_level"
expect_error '{ "plugin": { "scope": "swarm" } }' "plugin.scope"
"$NETCRAVED" -n -c "$T/missing.json" > "$T/err" 2>&1 && rc=0 || rc=$?
check "a missing -c file is an error" [ "$rc" -ne 0 ]
check "naming the file" grep -q "$T/missing.json" "$T/err"

# A second instance derives every machine-visible name from its own name.
echo '{ "instance": "nctest" }' > "$T/second.json"
"$NETCRAVED" -nv -c "$T/second.json" > "$T/second.out"
check "second instance: plugin socket" grep -q '/run/docker/plugins/nctest.sock' "$T/second.out"
check "second instance: netns" grep -q '"_nctest"' "$T/second.out"
check "second instance: nft table" grep -q '"nft_table": "nctest"' "$T/second.out"
# (runtime.bin_dir is where netcrave-install puts runtimes: the product's, shared.)
check "second instance: no default names left" not sh -c \
    "grep -v '\"bin_dir\": \"/opt/netcrave/bin\"' '$T/second.out' | grep -q '/netcrave\\b\\|\"_netcrave\"\\|\"nc\"'"
finish
