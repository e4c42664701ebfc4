#!/usr/bin/env bash
# Builds the pinned Vault, MinIO and SeaweedFS servers from the Go module proxy as static
# binaries, into a cache outside the repository keyed by version, and reuses them when present:
#
#   deploy/servers/build.sh [vault|minio|seaweedfs|all]   prints the path of each binary
#
# SeaweedFS is the second, independent S3 server the storage suite runs against ("any S3").
#
# Cache: $RECORDVAULT_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/recordvault. A cold build takes
# about 15-20 minutes on 2 cores (Vault is most of it); a warm one takes no time at all.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../versions.env
. "$here/../versions.env"
cache=${RECORDVAULT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recordvault}
mkdir -p "$cache/bin"

log() { printf 'build.sh: %s\n' "$*" >&2; }

# build NAME VERSION FUNC: runs FUNC OUT only when the cached binary is missing; a lock keeps
# two concurrent callers (make dev and make test, say) from building the same thing twice.
build() {
	local name=$1 version=$2 func=$3
	local out="$cache/bin/$name-$version"
	exec 9>"$cache/bin/.$name.lock"
	flock 9
	if [ ! -x "$out" ]; then
		log "building $name $version (cached afterwards in $cache/bin)"
		local start=$SECONDS
		"$func" "$out.tmp"
		mv "$out.tmp" "$out"
		log "built $name $version in $((SECONDS - start))s"
	fi
	exec 9>&-
	echo "$out"
}

build_vault() {
	# -mod=mod: `go mod tidy` fails on one of Vault's test-only packages, so the build
	# resolves what it needs itself; the committed go.sum pins every module it uses.
	(cd "$here/vaultbuild" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags vault \
		-ldflags "-s -w" -o "$1" github.com/hashicorp/vault)
}

build_minio() {
	# go install has no -o: install into a private GOBIN, then move the binary.
	local gobin
	gobin=$(mktemp -d)
	CGO_ENABLED=0 GOBIN="$gobin" go install -trimpath -ldflags "-s -w" \
		"github.com/minio/minio@$MINIO_VERSION"
	mv "$gobin/minio" "$1"
	rm -rf "$gobin"
}

build_seaweedfs() {
	# go install refuses a module whose go.mod has replace directives, as SeaweedFS's has:
	# build inside a writable copy of the module instead.
	local dir src
	dir=$(go mod download -json "github.com/seaweedfs/seaweedfs@$SEAWEEDFS_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] || { log "seaweedfs: module download failed"; return 1; }
	src=$(mktemp -d)
	cp -r "$dir/." "$src"
	chmod -R u+w "$src"
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$1" ./weed)
	rm -rf "$src"
}

case "${1:-all}" in
vault) build vault "$VAULT_VERSION" build_vault ;;
minio) build minio "$MINIO_VERSION" build_minio ;;
seaweedfs) build seaweedfs "$SEAWEEDFS_VERSION" build_seaweedfs ;;
all)
	build minio "$MINIO_VERSION" build_minio
	build vault "$VAULT_VERSION" build_vault
	build seaweedfs "$SEAWEEDFS_VERSION" build_seaweedfs
	;;
*) log "usage: $0 [vault|minio|seaweedfs|all]"; exit 2 ;;
esac
