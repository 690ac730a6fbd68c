"""The Kubernetes manifests as data: rendered by kustomize, validated against schemas, and run
through models of what the spin-operator and the API server do with them.

Nothing here needs a cluster. The models are small and name their source:
  - `operator_pod`, `operator_service`: spin-operator v0.6.1, internal/controller
    (constructDeployment, constructService, ConstructEnvForApp, SpinHealthCheckToCoreProbe) and
    pkg/spinapp (the label keys);
  - `admit`: a MutatingAdmissionPolicy's CEL evaluated with cel-python; JSON patch mutations
    applied as RFC 6902 says, apply configurations merged the way server-side apply merges a Pod
    (lists keyed by their merge keys) and refused when they set atomic fields, as the API server
    refuses them.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable

import celpy
import jsonschema
import kubernetes_validate
import yaml
from celpy import celtypes

from tests.support.paths import ROOT

K8S = ROOT / "k8s"
RUNTIME_CLASS = ROOT / "runtime-class.yaml"
CRD_DIR = ROOT / "tests" / "data" / "crds"
KUBERNETES_VERSION = "1.36.0"

APP = "model-api"
APP_IMAGE_NAME = "model-api"
EXPORTER_IMAGE_NAME = "model-exporter"
SIDECAR = "model-exporter"
METRICS_SERVICE = "model-api-metrics"
SPIN_HTTP_PORT = 80  # the operator's spinapp.DefaultHTTPPort

# spin-operator's label keys (pkg/spinapp, internal/constants).
NAME_LABEL = "core.spinkube.dev/app-name"


def status_label(app: str) -> str:
    return f"core.spinkube.dev/app.{app}.status"


# ---------------------------------------------------------------------------------------------
# Rendering


def kubectl() -> str:
    """kubectl with kustomize built in: .venv/bin/kubectl (scripts/setup.sh), or $KUBECTL, or PATH."""
    for candidate in (os.environ.get("KUBECTL"), str(ROOT / ".venv" / "bin" / "kubectl"), shutil.which("kubectl")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("kubectl not found: run scripts/setup.sh test (it unpacks it into .venv/bin)")


def targets(root: Path = K8S) -> dict[str, Path]:
    """Every kustomization a user applies: k8s/ itself and each overlay."""
    found = {"k8s": root}
    for overlay in sorted((root / "overlays").iterdir()):
        if (overlay / "kustomization.yaml").is_file():
            found[f"k8s/overlays/{overlay.name}"] = overlay
    return found


def components(root: Path = K8S) -> list[Path]:
    return sorted(p for p in (root / "components").iterdir() if (p / "kustomization.yaml").is_file())


@functools.cache
def _render_text(path: str) -> str:
    result = subprocess.run([kubectl(), "kustomize", path], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {path} failed:\n{result.stderr}")
    return result.stdout


def render(path: Path) -> list[dict]:
    """The objects `kubectl apply -k PATH` would send (a fresh copy each call)."""
    return [d for d in yaml.safe_load_all(_render_text(str(path))) if d]


def load_file(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def find(docs: Iterable[dict], kind: str, name: str | None = None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: Iterable[dict], kind: str, name: str | None = None) -> dict:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected exactly one {kind} {name or ''}, found {len(found)}"
    return found[0]


# ---------------------------------------------------------------------------------------------
# Schemas


def validate_builtin(doc: dict) -> None:
    """Kubernetes 1.36 schema, strict (unknown fields are errors). Raises on the first error."""
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def builtin_schema_exists(api_version: str, kind: str) -> bool:
    try:
        kubernetes_validate.validate({"apiVersion": api_version, "kind": kind}, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return False
    except kubernetes_validate.ValidationError:
        return True
    return True


def strict_schema(schema: Any) -> Any:
    """An OpenAPI v3 CRD schema as JSON Schema in which unknown fields are errors.

    The API server prunes fields a structural schema does not declare (unless an object sets
    x-kubernetes-preserve-unknown-fields), so a misspelt field would be dropped silently; here
    every such object gets additionalProperties: false. `nullable` becomes a null type, and
    x-kubernetes-int-or-string an integer-or-string.
    """
    if isinstance(schema, list):
        return [strict_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    s = {k: strict_schema(v) for k, v in schema.items()}
    if s.get("x-kubernetes-int-or-string") and "anyOf" not in s:
        s["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if s.get("nullable") and isinstance(s.get("type"), str):
        s["type"] = [s["type"], "null"]
    is_object = s.get("type") == "object" or (isinstance(s.get("type"), list) and "object" in s["type"])
    if is_object and not s.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in s:
        s["additionalProperties"] = False
        if s.get("x-kubernetes-embedded-resource"):
            s.setdefault("properties", {})
            for field in ("apiVersion", "kind"):
                s["properties"].setdefault(field, {"type": "string"})
            s["properties"].setdefault("metadata", {"type": "object", "additionalProperties": True})
    return s


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> {"schema", "scope"} for every served version of the CRDs in
    tests/data/crds (tests/data/SOURCES.md)."""
    found = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind, scope = crd["spec"]["group"], crd["spec"]["names"]["kind"], crd["spec"]["scope"]
        for version in crd["spec"]["versions"]:
            if not version.get("served", True):
                continue
            schema = strict_schema(version["schema"]["openAPIV3Schema"])
            # ObjectMeta is not the CRD's to describe: the API server validates it as for any
            # object, and so does validate_custom (through the built-in schema).
            schema["properties"]["metadata"] = {"type": "object"}
            found[(f"{group}/{version['name']}", kind)] = {"schema": schema, "scope": scope, "file": path.name}
    kinds = {kind for _, kind in found}
    assert {"SpinApp", "SpinAppExecutor", "ServiceMonitor", "PrometheusRule"} <= kinds, f"CRDs missing in {CRD_DIR}"
    return found


def is_custom(doc: dict) -> bool:
    return (doc["apiVersion"], doc["kind"]) in crd_schemas()


def validate_custom(doc: dict) -> list[str]:
    """Errors of a custom resource against its CRD schema (strict) and of its metadata against
    the built-in ObjectMeta schema (strict)."""
    entry = crd_schemas()[(doc["apiVersion"], doc["kind"])]
    validator = jsonschema.Draft202012Validator(entry["schema"])
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(doc)]
    try:
        # Any namespaced built-in kind carries the same ObjectMeta.
        validate_builtin({"apiVersion": "v1", "kind": "ConfigMap", "metadata": doc.get("metadata", {})})
    except kubernetes_validate.ValidationError as e:
        errors.append(f"metadata: {e.message}")
    return errors


CLUSTER_SCOPED_BUILTIN = {
    ("v1", "Namespace"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io/v1", "MutatingAdmissionPolicyBinding"),
}


def is_cluster_scoped(doc: dict) -> bool:
    key = (doc["apiVersion"], doc["kind"])
    if key in crd_schemas():
        return crd_schemas()[key]["scope"] == "Cluster"
    return key in CLUSTER_SCOPED_BUILTIN


# ---------------------------------------------------------------------------------------------
# The spin-operator (v0.6.1)


def _probe(check: dict | None) -> dict | None:
    if not check:
        return None
    probe = {"httpGet": {"path": check["httpGet"]["path"], "port": SPIN_HTTP_PORT}}
    if check["httpGet"].get("httpHeaders"):
        probe["httpGet"]["httpHeaders"] = check["httpGet"]["httpHeaders"]
    for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        if field in check:
            probe[field] = check[field]
    return probe


OTEL_ENV = {
    "exporter_otlp_endpoint": "OTEL_EXPORTER_OTLP_ENDPOINT",
    "exporter_otlp_traces_endpoint": "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "exporter_otlp_metrics_endpoint": "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "exporter_otlp_logs_endpoint": "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
}


def operator_pod_labels(spinapp: dict) -> dict[str, str]:
    name = spinapp["metadata"]["name"]
    return {**spinapp["spec"].get("podLabels", {}), NAME_LABEL: name, status_label(name): "ready"}


def operator_container(spinapp: dict, executor: dict) -> dict:
    spec = spinapp["spec"]
    env = [{"name": f"SPIN_VARIABLE_{v['name'].upper()}", **{k: v[k] for k in ("value", "valueFrom") if k in v}}
           for v in spec.get("variables", [])]
    env.append({"name": "SPIN_HTTP_LISTEN_ADDR", "value": f"0.0.0.0:{SPIN_HTTP_PORT}"})
    otel = executor["spec"].get("deploymentConfig", {}).get("otel", {})
    env += [{"name": OTEL_ENV[k], "value": v} for k, v in otel.items() if v]
    container = {
        "name": spinapp["metadata"]["name"],
        "image": spec["image"],
        "command": ["/"],
        "ports": [{"name": "http-app", "containerPort": SPIN_HTTP_PORT}],
        "env": env,
        "resources": spec.get("resources", {}),
    }
    for field, check in (("livenessProbe", "liveness"), ("readinessProbe", "readiness")):
        probe = _probe(spec.get("checks", {}).get(check))
        if probe:
            container[field] = probe
    return container


def operator_pod(spinapp: dict, executor: dict) -> dict:
    """A pod of the Deployment the operator renders (before admission)."""
    name = spinapp["metadata"]["name"]
    spec = {
        "runtimeClassName": executor["spec"]["deploymentConfig"]["runtimeClassName"],
        "serviceAccountName": spinapp["spec"].get("serviceAccountName", "default"),
        "containers": [operator_container(spinapp, executor)],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{name}-7d9c5b6f4-x2x4z",
            "namespace": spinapp["metadata"].get("namespace", "default"),
            "labels": operator_pod_labels(spinapp),
            "annotations": spinapp["spec"].get("podAnnotations", {}),
        },
        "spec": spec,
    }


def operator_service(spinapp: dict) -> dict:
    name = spinapp["metadata"]["name"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": spinapp["metadata"].get("namespace", "default"),
                     "labels": {NAME_LABEL: name}},
        "spec": {
            "type": "ClusterIP",
            "selector": {status_label(name): "ready"},
            "ports": [{"protocol": "TCP", "port": SPIN_HTTP_PORT, "targetPort": "http-app"}],
        },
    }


def selector_matches(match_labels: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in match_labels.items())


# ---------------------------------------------------------------------------------------------
# MutatingAdmissionPolicy


class CelTypeName(celtypes.MessageType):
    """`Object`, `Object.spec`, `Object.spec.initContainers`, ...: type names of the apply
    configuration. Calling one with field initialisers builds a `Built` value."""

    def __init__(self, path: tuple[str, ...] = ("Object",)):
        super().__init__()
        self.path = path

    def get(self, field, default=None):  # noqa: ARG002 - CEL field selection on a type name
        return CelTypeName(self.path + (str(field),))

    def __call__(self, fields=None):
        return Built(self.path, fields)

    def __hash__(self):
        return hash(self.path)


class Built(celtypes.MapType):
    """An object built from a type name; remembers which (so tests can check its placement)."""

    def __init__(self, path: tuple[str, ...], fields):
        super().__init__(fields or {})
        self.path = path


def plain(value: Any, where: tuple[str, ...] = ("Object",), misplaced: list | None = None) -> Any:
    """A CEL result as plain JSON values; records objects built from a type name that does not
    match the position they are placed at (`where`, list positions left out)."""
    if isinstance(value, Built) and misplaced is not None and value.path != where:
        misplaced.append((".".join(value.path), ".".join(where)))
    if isinstance(value, dict):
        return {str(k): plain(v, where + (str(k),), misplaced) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, where, misplaced) for v in value]
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, (celtypes.IntType, celtypes.UintType)):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, Exception):
        raise value
    return value


_CEL = celpy.Environment()


def cel_eval(expression: str, activation: dict[str, Any]) -> Any:
    program = _CEL.program(_CEL.compile(expression))
    result = program.evaluate({k: celpy.json_to_cel(v) if not isinstance(v, CelTypeName) else v
                               for k, v in activation.items()})
    if isinstance(result, Exception):
        raise result
    return result


# List merge keys of the Pod fields the sidecar touches (x-kubernetes-list-map-keys in the
# Kubernetes OpenAPI); other lists are atomic and replaced whole.
MERGE_KEYS = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "ports": ("containerPort", "protocol"),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
}


def apply_merge(base: Any, config: Any, field: str | None = None) -> Any:
    """Server-side apply of `config` onto `base`, for the structures a Pod uses."""
    if isinstance(base, dict) and isinstance(config, dict):
        merged = dict(base)
        for key, value in config.items():
            merged[key] = apply_merge(base[key], value, key) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(config, list) and field in MERGE_KEYS:
        keys = MERGE_KEYS[field]

        def key_of(item: dict) -> tuple:
            return tuple(item.get(k, "TCP" if k == "protocol" else None) for k in keys)

        merged = [copy.deepcopy(item) for item in base]
        for item in config:
            for i, existing in enumerate(merged):
                if key_of(existing) == key_of(item):
                    merged[i] = apply_merge(existing, item, None)
                    break
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(config)


def policy_activation(params: dict, pod: dict) -> dict[str, Any]:
    return {"Object": CelTypeName(), "JSONPatch": CelTypeName(("JSONPatch",)), "object": pod, "params": params,
            "oldObject": None, "request": {"operation": "CREATE", "namespace": pod["metadata"].get("namespace", "")}}


def json_pointer(path: str) -> list[str]:
    assert path.startswith("/"), path
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(document: Any, operations: list[dict]) -> Any:
    """RFC 6902 (add, remove, replace, test), as the API server applies a JSONPatch mutation:
    operations in order, the whole patch failing if one does."""
    document = copy.deepcopy(document)
    for op in operations:
        *parents, last = json_pointer(op["path"])
        parent = document
        for key in parents:
            parent = parent[int(key)] if isinstance(parent, list) else parent[key]
        kind = op["op"]
        if kind == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent[last]
            if current != op["value"]:
                raise ValueError(f"test failed at {op['path']}")
        elif kind == "add":
            if isinstance(parent, list):
                parent.insert(len(parent) if last == "-" else int(last), copy.deepcopy(op["value"]))
            else:
                parent[last] = copy.deepcopy(op["value"])
        elif kind == "replace":
            if isinstance(parent, list):
                parent[int(last)] = copy.deepcopy(op["value"])
            else:
                if last not in parent:
                    raise KeyError(op["path"])
                parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        else:
            raise NotImplementedError(kind)
    return document


def type_path(pointer: str) -> tuple[str, ...]:
    """The CEL type of what sits at a JSON pointer into the object: /spec/initContainers/- is
    an Object.spec.initContainers."""
    return ("Object",) + tuple(p for p in json_pointer(pointer) if p != "-" and not p.isdigit())


def evaluate_mutation(mutation: dict, params: dict, pod: dict, misplaced: list | None = None) -> Any:
    """A mutation's CEL result as plain data: an apply configuration (a dict) or JSON patch
    operations (a list). Records objects built from a type that does not fit where they go."""
    kind = mutation["patchType"]
    if kind == "ApplyConfiguration":
        result = cel_eval(mutation["applyConfiguration"]["expression"], policy_activation(params, pod))
        return plain(result, ("Object",), misplaced)
    assert kind == "JSONPatch", kind
    result = cel_eval(mutation["jsonPatch"]["expression"], policy_activation(params, pod))
    operations = []
    for op in result:
        assert isinstance(op, Built) and op.path == ("JSONPatch",), f"not a JSONPatch: {op!r}"
        fields = {str(k): v for k, v in op.items()}
        entry = {"op": str(fields["op"]), "path": str(fields["path"])}
        if "value" in fields:
            entry["value"] = plain(fields["value"], type_path(entry["path"]), misplaced)
        operations.append(entry)
    return operations


def apply_mutation(pod: dict, mutation: dict, params: dict) -> dict:
    evaluated = evaluate_mutation(mutation, params, pod)
    if mutation["patchType"] == "ApplyConfiguration":
        atomics = find_atomics(evaluated)
        if atomics:
            raise ValueError(f"may not mutate atomic arrays, maps or structs: {', '.join(atomics)}")
        return apply_merge(pod, evaluated)
    return json_patch(pod, evaluated)


def policy_matches(policy: dict, binding: dict, pod: dict, params: dict) -> bool:
    """Whether the policy, through the binding, mutates the creation of `pod`."""
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    if not any("" in r["apiGroups"] and "v1" in r["apiVersions"] and "pods" in r["resources"]
               and ("CREATE" in r["operations"] or "*" in r["operations"]) for r in rules):
        return False
    resources = binding["spec"].get("matchResources", {})
    # Every namespace carries the label kubernetes.io/metadata.name with its own name.
    namespace_labels = {"kubernetes.io/metadata.name": pod["metadata"].get("namespace", "default")}
    for selector, labels in ((resources.get("objectSelector", {}), pod["metadata"].get("labels", {})),
                             (resources.get("namespaceSelector", {}), namespace_labels)):
        if selector.get("matchExpressions"):
            raise NotImplementedError("matchExpressions")
        if not selector_matches(selector.get("matchLabels", {}), labels):
            return False
    return all(bool(cel_eval(c["expression"], policy_activation(params, pod)))
               for c in policy["spec"].get("matchConditions", []))


def _type_name(member) -> str:
    """The dotted name of a CEL member expression (`Object.spec.initContainers`)."""
    return ".".join(str(token) for token in member.scan_values(lambda v: not isinstance(v, celpy.celparser.Tree)
                                                                   and v.type == "IDENT"))


def _initializers(tree) -> list:
    """Every `Type{field: value, ...}` initializer in a parsed CEL expression, outermost first."""
    return [node for node in tree.iter_subtrees_topdown() if node.data == "member_object"]


def _itself_an_initializer(expr) -> Any:
    """The initializer an expression consists of, once its single-child wrapper nodes (the
    grammar's precedence levels, parentheses) are stripped; None if it is anything else."""
    wrappers = {"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication",
                "unary", "member", "primary", "paren_expr"}
    node = expr
    while True:
        if node.data == "member_object":
            return node
        if node.data not in wrappers or len(node.children) != 1:
            return None
        node = node.children[0]
        if not isinstance(node, celpy.celparser.Tree):
            return None


def objects_inside_patch_value_lists(expression: str) -> list[str]:
    """The JSON patch values of a mutation expression that hold an `Object.…{}` initializer
    anywhere but at their top: a list such as `[Object.spec.initContainers{...}]`, or one built
    with `+`. Such a value panics the API server of Kubernetes 1.36.0-1.36.3 while it builds the
    patch (kubernetes/kubernetes#142181). A value that is itself an Object initializer is safe,
    lists nested in its fields included."""
    problems = []
    for patch in _initializers(celpy.CELParser().parse(expression)):
        if _type_name(patch.children[0]) != "JSONPatch":
            continue
        fields = patch.children[1].children  # field name token, value expression, ...
        for name, value in zip(fields[::2], fields[1::2]):
            if str(name) != "value" or _itself_an_initializer(value) is not None:
                continue
            objects = [_type_name(o.children[0]) for o in _initializers(value)
                       if _type_name(o.children[0]).startswith("Object")]
            if objects:
                problems.append(f"a patch value holds {objects[0]}{{...}} inside a list or an expression")
    return problems


def admit(policy: dict, binding: dict, params: dict, pod: dict) -> dict:
    """The pod as the API server stores it after this policy (if it matches): mutations in
    order, each on the result of the one before."""
    if not policy_matches(policy, binding, pod, params):
        return copy.deepcopy(pod)
    admitted = pod
    for mutation in policy["spec"]["mutations"]:
        admitted = apply_mutation(admitted, mutation, params)
    return admitted


# ---------------------------------------------------------------------------------------------
# Atomic fields (why the policy uses JSON patches)


@functools.cache
def _definitions() -> dict:
    """The Kubernetes 1.36 definitions with their x-kubernetes-* list and map types."""
    import importlib.resources
    import json

    path = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema" / "v1.36.0-local" / "_definitions.json"
    return json.loads(path.read_text())["$defs"]


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = _definitions()[schema["$ref"].split("#/$defs/")[1]]
    return schema


def find_atomics(value: Any, schema: dict | None = None, path: str = "") -> list[str]:
    """Paths in an apply configuration for a Pod that set an atomic list, map or struct, which
    the API server refuses ("may not mutate atomic arrays, maps or structs"). Lists without a
    list type are atomic, as in structured-merge-diff."""
    schema = _resolve(schema or {"$ref": "#/$defs/io.k8s.api.core.v1.Pod"})
    found = []
    if isinstance(value, dict):
        if schema.get("x-kubernetes-map-type") == "atomic":
            return [path or "/"]
        for key, item in value.items():
            child = schema.get("properties", {}).get(key)
            if child is None and isinstance(schema.get("additionalProperties"), dict):
                child = schema["additionalProperties"]
            if child is None:
                continue
            child_resolved = _resolve(child)
            if isinstance(item, list):
                list_type = child.get("x-kubernetes-list-type") or child_resolved.get("x-kubernetes-list-type")
                if list_type in (None, "atomic"):
                    found.append(f"{path}/{key}")
                    continue
                for element in item:
                    found += find_atomics(element, child_resolved.get("items", {}), f"{path}/{key}[]")
            else:
                if child.get("x-kubernetes-map-type") == "atomic":
                    found.append(f"{path}/{key}")
                    continue
                found += find_atomics(item, child_resolved, f"{path}/{key}")
    return found
