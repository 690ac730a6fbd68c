"""The exporter's container image: exporter/Dockerfile packages a static musl binary on an
empty image. That binary is built in CI (scripts/test.sh, with the Dockerfile's own command)
and checked here: a static executable that runs with nothing around it, matching what the
manifests expect of the image (user, ports)."""

from __future__ import annotations

import re
import shlex
import struct
import subprocess
from pathlib import Path

import pytest

import manifests
from tests.support import exporter

PT_INTERP, PT_DYNAMIC, DT_NEEDED = 3, 2, 1


@pytest.fixture(scope="module")
def binary() -> Path:
    return exporter.ensure_binary()


def elf_facts(path: Path) -> dict:
    """Whether an x86-64 ELF asks for a program interpreter (a dynamic loader) or shared libraries."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not a 64-bit little-endian ELF"
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    e_phoff = struct.unpack_from("<Q", data, 32)[0]
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    facts = {"type": e_type, "machine": e_machine, "interpreter": None, "needed": 0}
    for i in range(e_phnum):
        p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack_from("<IIQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == PT_INTERP:
            facts["interpreter"] = data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
        if p_type == PT_DYNAMIC:
            for j in range(0, p_filesz, 16):
                tag, _value = struct.unpack_from("<qQ", data, p_offset + j)
                facts["needed"] += tag == DT_NEEDED
    return facts


def test_the_packaged_binary_is_a_static_x86_64_executable(binary):
    facts = elf_facts(binary)
    assert facts["machine"] == 62, "x86-64"
    assert facts["type"] in (2, 3), "an executable (static, or static-pie)"
    assert facts["interpreter"] is None, f"needs the dynamic loader {facts['interpreter']}"
    assert facts["needed"] == 0, "links shared libraries"


def test_file_agrees_that_it_is_statically_linked(binary):
    result = subprocess.run(["file", "-b", str(binary)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip("file(1) is not installed")
    assert re.search(r"static(-pie)? linked|statically linked", result.stdout), result.stdout


def test_it_runs_with_an_empty_environment_like_in_a_scratch_image(binary, tmp_path):
    result = subprocess.run([str(binary), "--version"], env={}, cwd=tmp_path, capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("model-exporter ")


def dockerfile_lines() -> list[str]:
    return re.sub(r"\\\n", " ", exporter.DOCKERFILE.read_text()).splitlines()


def test_the_dockerfile_packages_that_binary_alone_as_a_non_root_user():
    lines = [line.strip() for line in dockerfile_lines() if line.strip() and not line.startswith("#")]
    last_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM")):]
    assert last_stage[0] == "FROM scratch"
    build, binary = exporter.dockerfile_build()
    assert "--target" in build and build[build.index("--target") + 1].endswith("-linux-musl")
    assert binary.name == "model-exporter"
    (user,) = [line.split()[1] for line in last_stage if line.startswith("USER")]
    assert user == "65532:65532"


def test_the_image_matches_what_the_sidecar_spec_expects(base):
    """Same uid:gid as the injected sidecar's securityContext, and it exposes the sidecar's ports."""
    pod = manifests.operator_pod(manifests.one(base, "SpinApp"), manifests.one(base, "SpinAppExecutor"))
    binding = manifests.one(base, "MutatingAdmissionPolicyBinding")
    pod = manifests.admit(manifests.one(base, "MutatingAdmissionPolicy"), binding,
                          manifests.one(base, "ConfigMap", binding["spec"]["paramRef"]["name"]), pod)
    (sidecar,) = [c for c in pod["spec"]["initContainers"] if c["name"] == manifests.SIDECAR]
    lines = dockerfile_lines()
    (user,) = [line.split()[1] for line in lines if line.startswith("USER")]
    assert user == f"{sidecar['securityContext']['runAsUser']}:{sidecar['securityContext']['runAsGroup']}"
    (expose,) = [line.split()[1:] for line in lines if line.startswith("EXPOSE")]
    assert {int(p) for p in expose} == {p["containerPort"] for p in sidecar["ports"]}


def test_ci_builds_the_binary_with_the_dockerfiles_command():
    build, _ = exporter.dockerfile_build()
    script = (manifests.ROOT / "scripts" / "test.sh").read_text()
    commands = [shlex.split(line) for line in script.splitlines() if line.startswith("cargo build") and "model-exporter" in line]
    assert build in commands, f"scripts/test.sh must run: {shlex.join(build)}"


def test_the_musl_target_is_in_the_pinned_toolchain():
    import tomllib

    toolchain = tomllib.loads((manifests.ROOT / "rust-toolchain.toml").read_text())["toolchain"]
    build, _ = exporter.dockerfile_build()
    assert build[build.index("--target") + 1] in toolchain["targets"]
