#!/usr/bin/env bash
# .ci/steps/19-replicas.sh: a central tailor at scale on an existing
# registry (deploy/central). Three `tailor serve` replicas stand in front of
# a distribution registry (filesystem driver; test/serve/cmd/upstream holds
# an index of generic, haswell and skylake_avx512 builds, each printing its
# target) behind Debian's haproxy (round robin, health checks, retries).
# Each a PASS or FAIL line:
#   - every replica gives byte-identical tailored answers (same digest) for
#     the same index and profile, for several profiles and for the pin tag
#     of the index digest; so does a replica restarted with empty storage;
#   - skopeo and containerd pulls through the balancer get the right build
#     (the container's own output says which), by tag and by the pin tag of
#     the index digest (what tailor pin-webhook writes for pinned pods);
#   - a run of pulls through the balancer while one replica is killed
#     (SIGKILL, mid-run) loses no pull.
# Ports: 17100 (haproxy), 17101-17103 (replicas); REPLICAS_PORT_BASE moves
# them. Cold: apt-get install haproxy skopeo containerd runc (~1 min) and
# the Go builds; warm about 1 minute.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. test/serve/lib.sh

base=${REPLICAS_PORT_BASE:-17100}
LB=127.0.0.1:$base
passes=0
fails=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

need=()
for c in haproxy skopeo containerd runc jq curl; do command -v "$c" >/dev/null || need+=("$c"); done
if [ ${#need[@]} -gt 0 ]; then
	echo "== installing ${need[*]} from Debian"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; } ||
		{ echo "FAIL: apt-get install ${need[*]}"; exit 1; }
fi
for c in haproxy skopeo containerd ctr jq curl; do
	command -v "$c" >/dev/null || { echo "FAIL: $c is missing"; exit 1; }
done

work=$(mktemp -d)
PIDS=()
HAPROXY_PID=
CTR_PID=
declare -A REPLICA_PID
cleanup() {
	local pid
	for pid in "$HAPROXY_PID" "$CTR_PID" "${REPLICA_PID[@]}"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
	done
	for pid in "$HAPROXY_PID" "$CTR_PID" "${REPLICA_PID[@]}"; do
		[ -n "$pid" ] && wait "$pid" 2>/dev/null
	done
	stop_all
	umount -R "$work/ctd" 2>/dev/null
	rm -rf "$work"
	echo "== replicas: $passes passed, $fails failed"
	[ "$fails" -eq 0 ] && [ "$passes" -ge 9 ]
}
trap 'cleanup; exit $?' EXIT

echo "== building tailor, the upstream registry and the builds"
go build -o "$work/tailor" ./cmd/tailor && go build -o "$work/upstream" ./test/serve/cmd/upstream || exit 1
for t in generic haswell skylake_avx512; do
	CGO_ENABLED=0 go build -ldflags "-X main.target=$t" -o "$work/hello-$t" ./test/serve/cmd/hello || exit 1
done
TAILOR=$work/tailor UPSTREAM=$work/upstream
mkdir -p "$work/up"
start_upstream "$work/up" -repo app:v1 -variant generic="$work/hello-generic" \
	-variant haswell="$work/hello-haswell" -variant skylake_avx512="$work/hello-skylake_avx512"
echo "distribution registry at $UPSTREAM_ADDR"

# start_replica N: tailor serve on port base+N, its own storage; the
# central tailor's default profile is haswell (clients may name others).
start_replica() {
	local n=$1 port=$((base + $1))
	"$TAILOR" serve --listen "127.0.0.1:$port" --storage "$work/replica-$n" --profile cpu=haswell \
		--upstream "example.test=http://$UPSTREAM_ADDR" 2>>"$work/replica-$n.log" &
	REPLICA_PID[$n]=$!
	for _ in $(seq 1 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
		sleep 0.1
	done
	echo "replica $n did not start:"
	cat "$work/replica-$n.log"
	return 1
}
for n in 1 2 3; do start_replica "$n" || exit 1; done

cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 256
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
  retry-on all-retryable-errors
frontend registry
  bind $LB
  default_backend tailor
backend tailor
  balance roundrobin
  option httpchk GET /healthz
  default-server inter 300ms fall 1 rise 2
  server r1 127.0.0.1:$((base + 1)) check
  server r2 127.0.0.1:$((base + 2)) check
  server r3 127.0.0.1:$((base + 3)) check
CFG
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
HAPROXY_PID=$!
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://$LB/healthz" && break; sleep 0.1; done
curl -sf -o /dev/null "http://$LB/healthz" || { echo "FAIL: haproxy does not answer"; cat "$work/haproxy.log"; exit 1; }
echo "haproxy at $LB in front of replicas :$((base + 1)) :$((base + 2)) :$((base + 3))"

accept="Accept: application/vnd.oci.image.index.v1+json"
INDEX=$(curl -fsS -H "$accept" -H "Tailor-Profile: none" "http://$UPSTREAM_ADDR/v2/app/manifests/v1" | sha256sum | cut -d' ' -f1)
PIN=sha256-$INDEX.tailor
# digests REF PROFILE: the tailored answer's digest from each replica.
digests() {
	local n
	for n in 1 2 3; do
		curl -fsS -o /dev/null -D - -H "$accept" -H "Tailor-Profile: $2" "http://127.0.0.1:$((base + n))/v2/app/manifests/$1" |
			tr -d '\r' | sed -n 's/^Docker-Content-Digest: //Ip'
	done
}
declare -A FIRST
identical() { # LABEL
	local ok=1 ref profile got
	for ref in v1 "$PIN"; do
		for profile in cpu=haswell cpu=icelake cpu=zen4 cpu=x86_64 none; do
			got=$(digests "$ref" "$profile" | sort -u)
			if [ "$(echo "$got" | wc -l)" != 1 ] || [ -z "$got" ]; then
				echo "  $ref $profile: replicas differ: $(echo $got)"
				ok=0
			elif [ -n "${FIRST[$ref$profile]:-}" ] && [ "${FIRST[$ref$profile]}" != "$got" ]; then
				echo "  $ref $profile: $got, before ${FIRST[$ref$profile]}"
				ok=0
			fi
			FIRST[$ref$profile]=${FIRST[$ref$profile]:-$got}
		done
	done
	if [ $ok = 1 ]; then
		pass "$1: the three replicas give byte-identical answers (v1 and its pin tag, 5 profiles)"
	else
		fail "$1: replicas' answers differ"
	fi
}
identical "fresh replicas"
if [ "${FIRST[v1cpu=haswell]}" = "${FIRST[${PIN}cpu=haswell]}" ] && [ "${FIRST[v1none]}" = "sha256:$INDEX" ]; then
	pass "the pin tag of the index digest gives the tag's tailored answer; the untailored view is the index itself"
else
	fail "pin tag ${FIRST[${PIN}cpu=haswell]} vs tag ${FIRST[v1cpu=haswell]}; untailored ${FIRST[v1none]} vs sha256:$INDEX"
fi
if [ "${FIRST[v1cpu=haswell]}" != "${FIRST[v1cpu=icelake]}" ]; then
	pass "different profiles get different answers (haswell ${FIRST[v1cpu=haswell]:7:12}, icelake ${FIRST[v1cpu=icelake]:7:12})"
else
	fail "haswell and icelake get the same answer"
fi


"$TAILOR" mirror-config --for skopeo --server "http://$LB" example.test >"$work/registries.conf"
skopeo_pull() { # DEST
	skopeo --insecure-policy --registries-conf "$work/registries.conf" copy -q docker://example.test/app:v1 "oci:$1:app" 2>>"$work/skopeo.err" &&
		[ "$(run_from_layout "$1")" = "tailor-variant: haswell" ]
}
if skopeo_pull "$work/skopeo-1"; then
	pass "skopeo through haproxy gets the haswell build"
else
	fail "skopeo through haproxy: $(tail -1 "$work/skopeo.err")"
fi

ctd=$work/ctd
mkdir -p "$work/hosts/example.test"
start_containerd "$ctd"
# server is a name that does not resolve: only the balancer can answer.
"$TAILOR" mirror-config --for containerd --server "http://$LB" example.test |
	sed 's|server = "https://example.test"|server = "http://example.test.invalid"|' >"$work/hosts/example.test/hosts.toml"
snap=overlayfs
command ctr --address "$ctd/containerd.sock" plugins ls 2>/dev/null | grep -q 'overlayfs.*ok' || snap=native
ctr_pull() { # NAMESPACE
	local c=(command ctr --address "$ctd/containerd.sock" -n "$1")
	"${c[@]}" image pull --snapshotter "$snap" --hosts-dir "$work/hosts" example.test/app:v1 >/dev/null 2>>"$work/ctr.err" &&
		"${c[@]}" image export --platform linux/amd64 "$work/$1.tar" example.test/app:v1 2>>"$work/ctr.err" &&
		mkdir -p "$work/$1" && tar -xf "$work/$1.tar" -C "$work/$1" &&
		[ "$(run_from_layout "$work/$1")" = "tailor-variant: haswell" ]
}
if ctr_pull ctr-1; then
	pass "containerd through haproxy gets the haswell build"
else
	fail "containerd through haproxy: $(tail -1 "$work/ctr.err")"
fi

# The pin tag of the index digest, as tailor pin-webhook writes it for a pod
# pinned to the index: containerd and skopeo get the tailored build of
# exactly that index.
pinned=$(
	c=(command ctr --address "$ctd/containerd.sock" -n pin)
	"${c[@]}" image pull --snapshotter "$snap" --hosts-dir "$work/hosts" "example.test/app:$PIN" >/dev/null 2>>"$work/ctr.err" &&
		"${c[@]}" image export --platform linux/amd64 "$work/pin.tar" "example.test/app:$PIN" 2>>"$work/ctr.err" &&
		mkdir -p "$work/pin" && tar -xf "$work/pin.tar" -C "$work/pin" && run_from_layout "$work/pin"
)
skopeo --insecure-policy --registries-conf "$work/registries.conf" copy -q "docker://example.test/app:$PIN" "oci:$work/skopeo-pin:app" 2>>"$work/skopeo.err"
if [ "$pinned" = "tailor-variant: haswell" ] && [ "$(run_from_layout "$work/skopeo-pin")" = "tailor-variant: haswell" ]; then
	pass "containerd and skopeo pull the pin tag app:${PIN:0:19}... through haproxy: the haswell build of the pinned index"
else
	fail "the pin tag through haproxy: containerd '$pinned'; $(tail -1 "$work/ctr.err")"
fi

echo "== 24 pulls through haproxy (skopeo and containerd alternating); replica 2 killed (SIGKILL) during the 6th"
lost=0
for i in $(seq 1 24); do
	if [ "$i" = 6 ]; then
		# While the pull runs, not between two: whatever it has in flight.
		(sleep 0.15 && kill -9 "${REPLICA_PID[2]}" && echo "  replica 2 killed during pull 6") &
		killer=$!
	fi
	if [ "$i" = 7 ]; then
		wait "$killer"
		wait "${REPLICA_PID[2]}" 2>/dev/null
		REPLICA_PID[2]=
	fi
	if [ $((i % 2)) = 0 ]; then ok=ctr_pull dest=ctr-run-$i; else ok=skopeo_pull dest=$work/skopeo-run-$i; fi
	if ! "$ok" "$dest"; then
		lost=$((lost + 1))
		echo "  pull $i ($ok) lost"
	fi
done
if [ $lost = 0 ]; then
	pass "24 pulls through haproxy, replica 2 killed mid-run: none lost, every one the haswell build"
else
	fail "$lost of 24 pulls lost with replica 2 killed"
fi

echo "== replica 2 restarted with empty storage"
rm -rf "$work/replica-2"
start_replica 2 || exit 1
identical "replica 2 restarted empty"
for _ in $(seq 1 20); do
	grep -q "r2 is UP" "$work/haproxy.log" && break
	sleep 0.2
done
if grep -q "r2 is DOWN" "$work/haproxy.log" && grep -q "r2 is UP" "$work/haproxy.log"; then
	pass "haproxy took replica 2 out when it died and back when it returned"
else
	fail "haproxy's log does not show r2 going down and up: $(grep -c . "$work/haproxy.log") lines"
fi
