#!/usr/bin/env bash
# Builds the local Docker images the integration tests run, from the binaries that
# deploy/servers/build.sh builds (and builds those first when missing):
#
#   deploy/servers/images.sh      prints the image tags
#
# Vault's, MinIO's and SeaweedFS's: an image whose tag exists is never rebuilt; tags carry
# the pinned versions, so a version bump builds new ones (rvtest names the same tags; its test
# checks them against deploy/versions.env). recordvault's own (the service and the development
# issuer, tag "local"): rebuilt from this checkout each time, a static binary in an image of
# its own, a few seconds.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../versions.env
. "$here/../versions.env"

log() { printf 'images.sh: %s\n' "$*" >&2; }

# image NAME VERSION: builds recordvault-NAME:VERSION from deploy/images/NAME unless present.
image() {
	local name=$1 version=$2
	local tag="recordvault-$name:$version"
	if docker image inspect "$tag" >/dev/null 2>&1; then
		echo "$tag"
		return
	fi
	local bin ctx
	bin=$("$here/build.sh" "$name")
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' RETURN
	# A hard link costs nothing when the cache and /tmp share a file system.
	ln "$bin" "$ctx/$name" 2>/dev/null || cp "$bin" "$ctx/$name"
	mkdir -p "$ctx/rootfs/tmp" "$ctx/rootfs/data"
	chmod 1777 "$ctx/rootfs/tmp"
	cp "$here/../images/$name/Dockerfile" "$ctx/"
	log "building image $tag"
	# The classic builder: BuildKit needs the buildx plugin, which this machine kind lacks,
	# and FROM scratch needs nothing from a registry either way.
	DOCKER_BUILDKIT=0 docker build --quiet --tag "$tag" "$ctx" >/dev/null
	echo "$tag"
}

# local_image NAME PACKAGE BINARY: builds recordvault-NAME:local from deploy/images/NAME with
# the static binary of PACKAGE, named BINARY.
local_image() {
	local name=$1 pkg=$2 binary=$3
	local tag="recordvault-$name:local" ctx
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' RETURN
	(cd "$here/../.." && CGO_ENABLED=0 go build -trimpath -o "$ctx/$binary" "$pkg")
	mkdir -p "$ctx/rootfs/tmp"
	chmod 1777 "$ctx/rootfs/tmp"
	cp "$here/../images/$name/Dockerfile" "$ctx/"
	DOCKER_BUILDKIT=0 docker build --quiet --tag "$tag" "$ctx" >/dev/null
	echo "$tag"
}

image minio "$MINIO_VERSION"
image vault "$VAULT_VERSION"
image seaweedfs "$SEAWEEDFS_VERSION"
local_image service ./cmd/recordvault recordvault
local_image devissuer ./cmd/recordvault-devissuer recordvault-devissuer
