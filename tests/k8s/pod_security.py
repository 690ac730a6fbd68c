"""The Pod Security Standards, Baseline and Restricted, as checks on a pod spec.

No checker of the standards ships in a registry this project can install from (the reference
implementation, k8s.io/pod-security-admission, is a Go library), so the controls are written
out here from their definition, "Pod Security Standards" in the Kubernetes documentation
(kubernetes.io/docs/concepts/security/pod-security-standards, the `latest` version of the
profiles as of Kubernetes 1.36), one function per control, named as the page names it. Each
returns what violates it, so a test can say which control a pod fails and why.
"""

from __future__ import annotations

from typing import Iterator

# Baseline, "Capabilities": what may be added.
BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
# Baseline, "Sysctls": the safe set.
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
# Baseline, "SELinux": the types a container may use.
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
# Restricted, "Volume Types".
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def containers(spec: dict) -> Iterator[tuple[str, dict]]:
    for field in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(field, []):
            yield f"{field}[{container.get('name')}]", container


def _context(container: dict) -> dict:
    return container.get("securityContext") or {}


# --- Baseline --------------------------------------------------------------------------------


def host_process(spec: dict) -> list[str]:
    found = []
    if (spec.get("securityContext") or {}).get("windowsOptions", {}).get("hostProcess"):
        found.append("spec.securityContext.windowsOptions.hostProcess")
    found += [f"{where}.hostProcess" for where, c in containers(spec)
              if _context(c).get("windowsOptions", {}).get("hostProcess")]
    return found


def host_namespaces(spec: dict) -> list[str]:
    return [f"spec.{field}" for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field)]


def privileged_containers(spec: dict) -> list[str]:
    return [where for where, c in containers(spec) if _context(c).get("privileged")]


def capabilities_baseline(spec: dict) -> list[str]:
    return [f"{where} adds {cap}" for where, c in containers(spec)
            for cap in _context(c).get("capabilities", {}).get("add", []) if cap not in BASELINE_CAPABILITIES]


def host_path_volumes(spec: dict) -> list[str]:
    return [v["name"] for v in spec.get("volumes", []) if "hostPath" in v]


def host_ports(spec: dict) -> list[str]:
    return [f"{where} hostPort {p['hostPort']}" for where, c in containers(spec)
            for p in c.get("ports", []) if p.get("hostPort", 0) != 0]


def host_probes_and_lifecycle_hooks(spec: dict) -> list[str]:
    """Baseline since v1.34: probes and lifecycle hooks may not name a host."""
    found = []
    for where, c in containers(spec):
        handlers = [(probe, c.get(probe) or {}) for probe in PROBES]
        handlers += [(f"lifecycle.{hook}", (c.get("lifecycle") or {}).get(hook) or {}) for hook in ("postStart", "preStop")]
        for name, handler in handlers:
            for action in ("httpGet", "tcpSocket"):
                if (handler.get(action) or {}).get("host", ""):
                    found.append(f"{where}.{name}.{action}.host")
    return found


def app_armor(spec: dict) -> list[str]:
    allowed = {None, "RuntimeDefault", "Localhost"}
    found = []
    if ((spec.get("securityContext") or {}).get("appArmorProfile") or {}).get("type") not in allowed:
        found.append("spec.securityContext.appArmorProfile")
    found += [where for where, c in containers(spec) if (_context(c).get("appArmorProfile") or {}).get("type") not in allowed]
    return found


def selinux(spec: dict) -> list[str]:
    found = []
    options = [("spec.securityContext", (spec.get("securityContext") or {}).get("seLinuxOptions") or {})]
    options += [(where, _context(c).get("seLinuxOptions") or {}) for where, c in containers(spec)]
    for where, option in options:
        if option.get("type", "") not in SELINUX_TYPES or option.get("user") or option.get("role"):
            found.append(where)
    return found


def proc_mount(spec: dict) -> list[str]:
    return [where for where, c in containers(spec) if _context(c).get("procMount", "Default") != "Default"]


def seccomp_baseline(spec: dict) -> list[str]:
    found = []
    if ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type") == "Unconfined":
        found.append("spec.securityContext.seccompProfile")
    found += [where for where, c in containers(spec) if (_context(c).get("seccompProfile") or {}).get("type") == "Unconfined"]
    return found


def sysctls(spec: dict) -> list[str]:
    return [s["name"] for s in (spec.get("securityContext") or {}).get("sysctls", []) if s["name"] not in SAFE_SYSCTLS]


BASELINE = [host_process, host_namespaces, privileged_containers, capabilities_baseline, host_path_volumes,
            host_ports, host_probes_and_lifecycle_hooks, app_armor, selinux, proc_mount, seccomp_baseline, sysctls]


# --- Restricted (everything in Baseline, and these) ---------------------------------------------


def volume_types(spec: dict) -> list[str]:
    return [v["name"] for v in spec.get("volumes", []) if not set(v) - {"name"} <= RESTRICTED_VOLUMES]


def privilege_escalation(spec: dict) -> list[str]:
    return [where for where, c in containers(spec) if _context(c).get("allowPrivilegeEscalation") is not False]


def running_as_non_root(spec: dict) -> list[str]:
    pod = (spec.get("securityContext") or {}).get("runAsNonRoot")
    found = []
    for where, c in containers(spec):
        own = _context(c).get("runAsNonRoot")
        if own is False or (own is None and pod is not True):
            found.append(where)
    return found


def running_as_non_root_user(spec: dict) -> list[str]:
    found = ["spec.securityContext.runAsUser"] if (spec.get("securityContext") or {}).get("runAsUser") == 0 else []
    return found + [where for where, c in containers(spec) if _context(c).get("runAsUser") == 0]


def seccomp_restricted(spec: dict) -> list[str]:
    allowed = {"RuntimeDefault", "Localhost"}
    pod = ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    found = []
    for where, c in containers(spec):
        own = (_context(c).get("seccompProfile") or {}).get("type")
        if own not in allowed and not (own is None and pod in allowed):
            found.append(where)
    return found


def capabilities_restricted(spec: dict) -> list[str]:
    found = []
    for where, c in containers(spec):
        capabilities = _context(c).get("capabilities") or {}
        if "ALL" not in capabilities.get("drop", []):
            found.append(f"{where} does not drop ALL")
        found += [f"{where} adds {cap}" for cap in capabilities.get("add", []) if cap != "NET_BIND_SERVICE"]
    return found


RESTRICTED = BASELINE + [volume_types, privilege_escalation, running_as_non_root, running_as_non_root_user,
                         seccomp_restricted, capabilities_restricted]


def violations(spec: dict, level: str) -> dict[str, list[str]]:
    """Control name -> what violates it, for a pod spec at `baseline` or `restricted`."""
    controls = {"baseline": BASELINE, "restricted": RESTRICTED}[level]
    return {control.__name__: found for control in controls if (found := control(spec))}
