#!/usr/bin/env bash
# Real container engines through tailor serve: Debian's dockerd 20.10 (on a
# private containerd) and podman 4.3, each private to this step (sockets,
# data, config under one temporary directory; test/engines starts and stops
# them by PID). Pulls through serve, --platform, login profiles, mirror
# mode as `tailor mirror-config` writes it, `tailor run --engine
# docker|podman`, pulls by index digest. Counts passes and failures; any
# failure, skip or missing tool fails the step. Ports: TAILOR_ENGINES_PORT
# (default 16100) to +2. Warm: about 35-50 s on 2 busy cores.
# Not here yet: Docker 28 (classic and containerd store) and the buildx
# bake path, which need dockerd 28 and buildx built from their modules
# (cached under /var/cache/tailor-engines) and a local gcc builder image.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"

echo "== engines: packages (docker.io 20.10, podman 4.3 and what they need)"
export DEBIAN_FRONTEND=noninteractive
need=()
for p in docker.io podman conmon tini libsubid4 containerd runc gcc; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for tool in /usr/bin/docker dockerd containerd podman conmon runc gcc; do
  command -v "$tool" >/dev/null || { echo "engines: $tool missing after install"; exit 1; }
done

echo "== engines: dockerd 20.10 and podman through tailor serve (test/engines)"
start=$(date +%s)
set +e
out=$(TAILOR_ENGINE_TESTS=1 go test -count=1 -v -timeout 15m ./test/engines/ 2>&1)
rc=$?
set -e
passes=$(grep -c -- '^--- PASS' <<<"$out" || true)
fails=$(grep -c -- '--- FAIL' <<<"$out" || true)
skips=$(grep -c -- '--- SKIP' <<<"$out" || true)
echo "engines: $passes passed, $fails failed, $skips skipped in $(( $(date +%s) - start )) s"
if [ "$rc" -ne 0 ] || [ "$fails" -ne 0 ] || [ "$skips" -ne 0 ] || [ "$passes" -lt 10 ]; then
  echo "$out" | tail -150
  echo "engines: want at least 10 passes, no failure and no skip"
  exit 1
fi
