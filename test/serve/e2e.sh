#!/usr/bin/env bash
# End-to-end: real clients through `tailor serve`.
# A distribution registry holds a multi-variant index of the example image
# (generic, haswell, skylake_avx512; each variant's binary prints its
# target). Two `tailor serve` instances with different profiles front it.
# skopeo copies through a registries.conf mirror and containerd pulls and
# runs through a hosts.toml mirror; each must get the variant its profile
# should get, as the container's own output shows. Exits non-zero on any
# wrong variant. Safe to run twice (everything lives in a fresh temp dir).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/test/serve/lib.sh"

need=()
command -v skopeo >/dev/null || need+=(skopeo)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
command -v htpasswd >/dev/null || need+=(apache2-utils)
if [ ${#need[@]} -gt 0 ]; then
	echo "== installing ${need[*]} from Debian"
	apt-cache policy "${need[@]}" | grep -E '^[a-z]|Candidate' || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
PIDS=()
CTR_PID=
cleanup() {
	if [ -n "$CTR_PID" ]; then kill "$CTR_PID" 2>/dev/null || true; wait "$CTR_PID" 2>/dev/null || true; fi
	stop_all
	umount -R "$work/ctd" 2>/dev/null || true
	rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

echo "== building tailor, the upstream registry and the variants"
(cd "$root" && go build -o "$work/tailor" ./cmd/tailor && go build -o "$work/upstream" ./test/serve/cmd/upstream)
for t in generic haswell skylake_avx512; do
	(cd "$root" && CGO_ENABLED=0 go build -ldflags "-X main.target=$t" -o "$work/hello-$t" ./test/serve/cmd/hello)
done
TAILOR=$work/tailor UPSTREAM=$work/upstream

mkdir -p "$work/up"
start_upstream "$work/up" -repo app:v1 -variant generic="$work/hello-generic" \
	-variant haswell="$work/hello-haswell" -variant skylake_avx512="$work/hello-skylake_avx512"
echo "upstream registry at $UPSTREAM_ADDR"

# Two servers: profile A (haswell host) and profile B (icelake host).
declare -A ADDR WANT
WANT[a]=haswell WANT[b]=skylake_avx512
start_serve "$work/serve-a.log" --storage "$work/serve-a" --profile cpu=haswell --upstream "example.test=http://$UPSTREAM_ADDR"
ADDR[a]=$SERVE_ADDR
ADDR_PID_A=$SERVE_PID
start_serve "$work/serve-b.log" --storage "$work/serve-b" --profile cpu=icelake --upstream "example.test=http://$UPSTREAM_ADDR"
ADDR[b]=$SERVE_ADDR
echo "tailor serve A (cpu=haswell) at ${ADDR[a]}, B (cpu=icelake) at ${ADDR[b]}"

failures=0
check() { # check WHO CLIENT OUTPUT
	local want="tailor-variant: ${WANT[$1]}"
	if [ "$3" = "$want" ]; then
		echo "ok   $2 via profile $1: $3"
	else
		echo "FAIL $2 via profile $1: got '$3', want '$want'"
		failures=$((failures + 1))
	fi
}


echo "== skopeo copy through a registries.conf mirror"
for who in a b; do
	"$TAILOR" mirror-config --for skopeo --server "http://${ADDR[$who]}" example.test >"$work/registries-$who.conf"
	skopeo --insecure-policy --registries-conf "$work/registries-$who.conf" copy -q \
		docker://example.test/app:v1 "oci:$work/skopeo-$who:app"
	check "$who" skopeo "$(run_from_layout "$work/skopeo-$who")"
done

echo "== containerd: ctr image pull + ctr run through a hosts.toml mirror"
ctd=$work/ctd
start_containerd "$ctd"
ctr() { command ctr --address "$ctd/containerd.sock" "$@"; }
snap=overlayfs
ctr plugins ls 2>/dev/null | grep -q 'overlayfs.*ok' || snap=native
for who in a b; do
	hosts=$work/hosts-$who/example.test
	mkdir -p "$hosts"
	# server is a name that does not resolve: only the mirror can answer.
	"$TAILOR" mirror-config --for containerd --server "http://${ADDR[$who]}" example.test |
		sed 's|server = "https://example.test"|server = "http://example.test.invalid"|' >"$hosts/hosts.toml"
	ctr -n "e2e-$who" image pull --snapshotter "$snap" --hosts-dir "$work/hosts-$who" example.test/app:v1 >/dev/null
	digest=$(ctr -n "e2e-$who" image ls | awk '$1=="example.test/app:v1"{print $3}')
	echo "containerd ($who) pulled example.test/app:v1 as $digest"
	if out=$(ctr -n "e2e-$who" run --rm --snapshotter "$snap" example.test/app:v1 "e2e-$who-$$" 2>"$work/ctr-run-$who.err"); then
		check "$who" "ctr run" "$(echo "$out" | tr -d '\r')"
	else
		echo "NOTE ctr run is not possible here ($(tail -1 "$work/ctr-run-$who.err")); falling back to ctr image export + running the unpacked binary"
		ctr -n "e2e-$who" image export --platform linux/amd64 "$work/export-$who.tar" example.test/app:v1
		mkdir -p "$work/export-$who"
		tar -xf "$work/export-$who.tar" -C "$work/export-$who"
		check "$who" "ctr pull (exported, run outside containerd)" "$(run_from_layout "$work/export-$who")"
	fi
done

echo "== --htpasswd: the token flow with real clients (embedded registry, server C)"
# Clients decide how to authenticate from the /v2/ ping; C challenges it
# with a bearer token realm: skopeo pushes with a login, containerd and
# skopeo pull anonymously, an anonymous push is refused.
WANT[c]=haswell
htpasswd -Bbn alice secret >"$work/htpasswd" 2>/dev/null
start_serve "$work/serve-c.log" --storage "$work/serve-c" --profile cpu=haswell --htpasswd "$work/htpasswd"
ADDR[c]=$SERVE_ADDR
if skopeo --insecure-policy copy -q --all --src-tls-verify=false --dest-tls-verify=false \
	"docker://$UPSTREAM_ADDR/app:v1" "docker://${ADDR[c]}/team/app:v1" 2>"$work/anon-push.err"; then
	echo "FAIL anonymous skopeo push into C succeeded"
	failures=$((failures + 1))
else
	echo "ok   anonymous skopeo push refused: $(grep -o 'unauthorized[^"\\]*' "$work/anon-push.err" | head -1)"
fi
skopeo --insecure-policy copy -q --all --src-tls-verify=false --dest-tls-verify=false --dest-creds alice:secret \
	"docker://$UPSTREAM_ADDR/app:v1" "docker://${ADDR[c]}/team/app:v1"
echo "ok   skopeo push with --dest-creds alice:secret"
skopeo --insecure-policy copy -q --src-tls-verify=false "docker://${ADDR[c]}/team/app:v1" "oci:$work/skopeo-c:app"
check c "anonymous skopeo pull" "$(run_from_layout "$work/skopeo-c")"
ctr -n e2e-c image pull --plain-http --snapshotter "$snap" "${ADDR[c]}/team/app:v1" >/dev/null
ctr -n e2e-c image export --platform linux/amd64 "$work/export-c.tar" "${ADDR[c]}/team/app:v1"
mkdir -p "$work/export-c"
tar -xf "$work/export-c.tar" -C "$work/export-c"
check c "anonymous ctr pull (exported)" "$(run_from_layout "$work/export-c")"
if grep -q -e secret -e Bearer "$work/serve-c.log"; then
	echo "FAIL server C's log holds a password or token"
	failures=$((failures + 1))
fi

echo "== the untailored view: byte for byte what the upstream holds"
upstream_sum=$(curl -fsS -H "Accept: application/vnd.oci.image.index.v1+json" "http://$UPSTREAM_ADDR/v2/app/manifests/v1" | sha256sum)
for how in "-H Tailor-Profile:none http://${ADDR[a]}/v2/app/manifests/v1" "http://${ADDR[a]}/v2/_p/none/app/manifests/v1"; do
	# shellcheck disable=SC2086
	got=$(curl -fsS -H "Accept: application/vnd.oci.image.index.v1+json" $how | sha256sum)
	if [ "$got" = "$upstream_sum" ]; then
		echo "ok   untailored view ($how) is the upstream's index byte for byte"
	else
		echo "FAIL untailored view ($how) differs from the upstream's index"
		failures=$((failures + 1))
	fi
done
entries=$("$TAILOR" inspect "${ADDR[a]}/app:v1" -o json | jq '.entries | length')
if [ "$entries" = 3 ]; then
	echo "ok   tailor inspect through server A sees all 3 entries"
else
	echo "FAIL tailor inspect through server A sees $entries entries, want 3"
	failures=$((failures + 1))
fi

echo "== a 2-hop chain: node mirror (cpu=haswell) -> central tailor (cpu=icelake) -> registry"
# The node names its upstream example.test, as the mirrored registry; the
# central server names it differently (up). containerd sends ?ns=example.test
# to the node, which consumes it and asks the central server for the
# untailored view; the node tailors for its own profile.
start_serve "$work/central.log" --storage "$work/central" --profile cpu=icelake --upstream "up=http://$UPSTREAM_ADDR"
CENTRAL=$SERVE_ADDR
WANT[node]=haswell
start_serve "$work/node.log" --storage "$work/node" --profile cpu=haswell --upstream "example.test=http://$CENTRAL"
ADDR[node]=$SERVE_ADDR
echo "central $CENTRAL, node ${ADDR[node]}"
accept="Accept: application/vnd.oci.image.index.v1+json"
target=$(curl -fsS -H "$accept" "http://${ADDR[node]}/v2/app/manifests/v1?ns=example.test" |
	jq -r '.manifests[] | select(.platform.architecture=="amd64" and (.platform.variant // "") == "") | .annotations["dev.tailor.selected.target"]')
if [ "$target" = haswell ]; then echo "ok   curl through node -> central: tailored for the node (haswell)"; else
	echo "FAIL curl through node -> central: selected target '$target', want haswell"; failures=$((failures + 1)); fi
chosen=$(curl -fsS -H "$accept" "http://${ADDR[node]}/v2/app/manifests/v1?ns=example.test" |
	jq -r '.manifests[] | select(.platform.architecture=="amd64" and (.platform.variant // "") == "") | .digest')
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Accept: application/vnd.oci.image.manifest.v1+json" \
	"http://${ADDR[node]}/v2/app/manifests/$chosen?ns=example.test")
if [ "$code" = 200 ]; then echo "ok   curl by digest with ?ns= through node -> central: 200"; else
	echo "FAIL curl by digest with ?ns= through node -> central: $code"; failures=$((failures + 1)); fi
hosts=$work/hosts-node/example.test
mkdir -p "$hosts"
"$TAILOR" mirror-config --for containerd --server "http://${ADDR[node]}" example.test |
	sed 's|server = "https://example.test"|server = "http://example.test.invalid"|' >"$hosts/hosts.toml"
ctr -n e2e-node image pull --snapshotter "$snap" --hosts-dir "$work/hosts-node" example.test/app:v1 >/dev/null
ctr -n e2e-node image export --platform linux/amd64 "$work/export-node.tar" example.test/app:v1
mkdir -p "$work/export-node"
tar -xf "$work/export-node.tar" -C "$work/export-node"
check node "ctr pull through node -> central (exported)" "$(run_from_layout "$work/export-node")"
"$TAILOR" mirror-config --for skopeo --server "http://${ADDR[node]}" example.test >"$work/registries-node.conf"
skopeo --insecure-policy --registries-conf "$work/registries-node.conf" copy -q docker://example.test/app:v1 "oci:$work/skopeo-node:app"
check node "skopeo through node -> central" "$(run_from_layout "$work/skopeo-node")"
# The central server's own clients still get its profile's choice.
target=$(curl -fsS -H "$accept" "http://$CENTRAL/v2/app/manifests/v1" |
	jq -r '.manifests[] | select(.platform.architecture=="amd64" and (.platform.variant // "") == "") | .annotations["dev.tailor.selected.target"]')
if [ "$target" = skylake_avx512 ]; then echo "ok   central's own clients: skylake_avx512"; else
	echo "FAIL central's own clients got '$target'"; failures=$((failures + 1)); fi
# A node in front of server C (embedded registry, token flow): the node
# fetches an anonymous pull token from C.
WANT[nodec]=generic
start_serve "$work/nodec.log" --storage "$work/nodec" --profile cpu=x86_64 --upstream "example.test=http://${ADDR[c]}"
ADDR[nodec]=$SERVE_ADDR
skopeo --insecure-policy copy -q --src-tls-verify=false "docker://${ADDR[nodec]}/team/app:v1" "oci:$work/skopeo-nodec:app"
check nodec "skopeo through node -> C (embedded, token flow)" "$(run_from_layout "$work/skopeo-nodec")"

echo "== 3,000 client-chosen profiles: bounded storage and memory (server D)"
start_serve "$work/serve-d.log" --storage "$work/serve-d" --profile none --upstream "example.test=http://$UPSTREAM_ADDR"
ADDR[d]=$SERVE_ADDR
D_PID=$SERVE_PID
curl -fsS -o /dev/null "http://${ADDR[d]}/v2/app/manifests/v1"
before=$(du -sb "$work/serve-d" | cut -f1)
targets=(haswell skylake_avx512 icelake zen3 x86_64 x86_64_v2 sapphirerapids)
for i in $(seq 1 3000); do
	printf 'url = "http://%s/v2/_p/cpu=%s,label.n%d=%s/app/manifests/v1"\noutput = "/dev/null"\n' \
		"${ADDR[d]}" "${targets[$((i % ${#targets[@]}))]}" "$i" "$(printf 'x%.0s' $(seq 1 100))"
done >"$work/profiles.curl"
curl -sS --no-progress-meter --parallel --parallel-max 16 -K "$work/profiles.curl" -w '%{http_code}\n' | sort | uniq -c | sed 's/^/     HTTP /'
after=$(du -sb "$work/serve-d" | cut -f1)
rss=$(awk '/^VmRSS/{print $2}' "/proc/$D_PID/status")
echo "storage grew by $((after - before)) bytes; RSS ${rss} kB"
if [ $((after - before)) -le 1048576 ] && [ "$rss" -le 65536 ]; then
	echo "ok   3,000 profiles: storage +$((after - before)) B (<= 1 MiB), RSS $((rss / 1024)) MiB (<= 64 MiB)"
else
	echo "FAIL 3,000 profiles: storage +$((after - before)) B, RSS $((rss / 1024)) MiB (want <= 1 MiB, <= 64 MiB)"
	failures=$((failures + 1))
fi

echo "== the cache: pull again with the upstream down (server A)"
kill "$UPSTREAM_PID"
wait "$UPSTREAM_PID" 2>/dev/null || true
if curl -fsS -o /dev/null "http://$UPSTREAM_ADDR/v2/" 2>/dev/null; then echo "FAIL the upstream is still up"; failures=$((failures + 1)); fi
warning=$(curl -sS -D - -o /dev/null -H "$accept" "http://${ADDR[a]}/v2/app/manifests/v1" | tr -d '\r' | sed -n 's/^Warning: //p')
echo "tag through A with the upstream down: Warning: $warning"
ctr -n e2e-a-offline image pull --snapshotter "$snap" --hosts-dir "$work/hosts-a" example.test/app:v1 >/dev/null
ctr -n e2e-a-offline image export --platform linux/amd64 "$work/export-a-offline.tar" example.test/app:v1
mkdir -p "$work/export-a-offline"
tar -xf "$work/export-a-offline.tar" -C "$work/export-a-offline"
check a "ctr pull with the upstream down (exported)" "$(run_from_layout "$work/export-a-offline")"
skopeo --insecure-policy --registries-conf "$work/registries-a.conf" copy -q docker://example.test/app:v1 "oci:$work/skopeo-a-offline:app"
check a "skopeo with the upstream down" "$(run_from_layout "$work/skopeo-a-offline")"
kill "${ADDR_PID_A}" 2>/dev/null || true
wait "${ADDR_PID_A}" 2>/dev/null || true
start_serve "$work/serve-a2.log" --storage "$work/serve-a" --profile cpu=haswell --upstream "example.test=http://$UPSTREAM_ADDR"
ADDR[a]=$SERVE_ADDR
"$TAILOR" mirror-config --for skopeo --server "http://${ADDR[a]}" example.test >"$work/registries-a2.conf"
skopeo --insecure-policy --registries-conf "$work/registries-a2.conf" copy -q docker://example.test/app:v1 "oci:$work/skopeo-a-restarted:app"
check a "skopeo from A restarted with the upstream down" "$(run_from_layout "$work/skopeo-a-restarted")"
grep -q "last known index" "$work/serve-a.log" && echo "ok   A's log says it served the tag from its last known index" ||
	{ echo "FAIL A's log does not say it served a stale tag"; failures=$((failures + 1)); }
curl -s "http://${ADDR[a]}/metrics" | grep -E '^tailor_serve_(stale_answers_total|cache_blobs_total)' || true

echo "== metrics of server A"
curl -s "http://${ADDR[a]}/metrics" | grep -E '^tailor_serve_selections_total' || true

if [ "$failures" -gt 0 ]; then
	echo "e2e: $failures wrong variant(s)"
	exit 1
fi
echo "e2e: every client got the variant its profile should get"
