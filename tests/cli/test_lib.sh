# Helpers for the shell tests: counting checks, free loopback ports, and
# killing the servers a test started. Source it; set `adaline` after.
passed=0
failed=0
pids=()
trap 'kill -9 "${pids[@]}" 2>/dev/null' EXIT

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Waits until a server answers at ADDRESS (up to 10 s).
wait_up() {
  for _ in $(seq 100); do
    "$adaline" query --servers "$1" --stats --retry-timeout 0.2 >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
# The closing line and exit status.
finish() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
