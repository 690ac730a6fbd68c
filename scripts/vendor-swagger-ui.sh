#!/usr/bin/env bash
# Refresh the Swagger UI files that the docs-site component bundles (crates/docs-site/assets/).
#
#     scripts/vendor-swagger-ui.sh            # the pinned version below
#     scripts/vendor-swagger-ui.sh 5.36.0     # another version (then update README and INTEGRITY)
#
# Uses `npm pack`, which downloads the package tarball only: no dependency is installed and no
# install script runs (swagger-ui-dist depends on @scarf/scarf, an install-time analytics hook).
# The tarball is checked against the pinned integrity for the pinned version.
set -euo pipefail

VERSION="${1:-5.35.0}"
# `npm view swagger-ui-dist@5.35.0 dist.integrity`
PINNED_VERSION="5.35.0"
INTEGRITY="sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=="

# The files the page needs, plus the licence texts that must travel with them.
FILES=(
    swagger-ui-bundle.js
    swagger-ui-bundle.js.LICENSE.txt
    swagger-ui.css
    index.css
    favicon-16x16.png
    favicon-32x32.png
    LICENSE
    NOTICE
)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/crates/docs-site/assets/swagger-ui"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null)
TARBALL="$WORK/swagger-ui-dist-$VERSION.tgz"

if [[ "$VERSION" == "$PINNED_VERSION" ]]; then
    ACTUAL="sha512-$(openssl dgst -sha512 -binary "$TARBALL" | base64 -w0)"
    if [[ "$ACTUAL" != "$INTEGRITY" ]]; then
        echo "integrity mismatch for swagger-ui-dist@$VERSION: $ACTUAL" >&2
        exit 1
    fi
fi

tar -xzf "$TARBALL" -C "$WORK"
mkdir -p "$DEST"
for file in "${FILES[@]}"; do
    cp "$WORK/package/$file" "$DEST/$file"
done
echo "vendored swagger-ui-dist@$VERSION into ${DEST#"$ROOT"/}:"
(cd "$DEST" && ls -l "${FILES[@]}")
