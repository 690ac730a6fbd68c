"""What a PromQL expression reads, checked against what exists: every selector must name a
series that exists (a metric the exporter exposes, a series Prometheus makes, or a recording
rule), with labels it has; every grouping, matching or template label must be one the
expression's result or operands carry.

Label sets are inferred the way Prometheus computes result labels: aggregations keep their
`by` labels, one-to-one matching with `on` keeps the `on` labels, `group_left` adds the named
labels, comparisons without `bool` keep the left side's labels, and so on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import promql_parser as pp

# Labels Prometheus attaches to every series scraped through a ServiceMonitor
# (prometheus-operator's endpoint relabelling), besides the exporter's own.
TARGET_LABELS = frozenset({"job", "instance", "namespace", "service", "pod", "container", "endpoint"})
# Series Prometheus itself records for each target.
SCRAPE_SERIES = {"up": set()}

# Grafana's variables, replaced by representative values before parsing.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "30s",
    "$__range": "1h",
    "$namespace": "default",
}


@dataclass
class Usage:
    problems: list[str] = field(default_factory=list)
    # (metric, {label: value}) for every equality matcher, to check values elsewhere.
    equalities: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    metrics: set[str] = field(default_factory=set)


class Checker:
    """Knows the series that exist: `series` maps a metric name to its label names."""

    def __init__(self, series: dict[str, set[str]]):
        self.series = {name: set(labels) for name, labels in series.items()}

    def labels_of_metric(self, name: str) -> set[str] | None:
        if name in self.series:
            return self.series[name] | TARGET_LABELS
        return None

    def record(self, name: str, labels: set[str]) -> None:
        """A recording rule's output: its labels, exactly (aggregations fix them)."""
        self.series.setdefault(name, set()).update(labels)

    # -- the walk -------------------------------------------------------------------------

    def check(self, expression: str) -> tuple[set[str], Usage]:
        usage = Usage()
        labels = self._walk(pp.parse(substitute(expression)), usage)
        return labels, usage

    def _walk(self, node, usage: Usage) -> set[str]:
        kind = type(node).__name__
        if kind == "VectorSelector":
            return self._selector(node, usage)
        if kind == "MatrixSelector":
            return self._selector(node.vector_selector, usage)
        if kind in ("ParenExpr", "UnaryExpr", "SubqueryExpr"):
            return self._walk(node.expr, usage)
        if kind in ("NumberLiteral", "StringLiteral"):
            return set()
        if kind == "Call":
            return self._call(node, usage)
        if kind == "AggregateExpr":
            return self._aggregate(node, usage)
        if kind == "BinaryExpr":
            return self._binary(node, usage)
        usage.problems.append(f"unhandled PromQL node {kind}")
        return set()

    def _selector(self, node, usage: Usage) -> set[str]:
        name = node.name
        matchers = list(node.matchers.matchers)
        if name is None:
            names = [m.value for m in matchers if m.name == "__name__"]
            name = names[0] if names else None
        if name is None:
            usage.problems.append(f"selector without a metric name: {node}")
            return set()
        usage.metrics.add(name)
        labels = self.labels_of_metric(name)
        if labels is None:
            usage.problems.append(f"{name}: no such series (not exposed by the exporter, not recorded)")
            return set()
        for matcher in matchers:
            if matcher.name != "__name__" and matcher.name not in labels:
                usage.problems.append(f"{name} has no label {matcher.name!r} (it has {sorted(labels)})")
        usage.equalities.append((name, {m.name: m.value for m in matchers
                                        if m.name != "__name__" and str(m.op).endswith("Equal")
                                        and "Not" not in str(m.op)}))
        return labels

    def _call(self, node, usage: Usage) -> set[str]:
        function = node.func.name
        arguments = [self._walk(a, usage) for a in node.args]
        vectors = [labels for a, labels in zip(node.args, arguments)
                   if type(a).__name__ not in ("NumberLiteral", "StringLiteral")]
        if function == "histogram_quantile":
            if "le" not in arguments[1]:
                usage.problems.append("histogram_quantile over series without an 'le' label")
            return arguments[1] - {"le"}
        if function == "absent":
            return {m.name for m in node.args[0].matchers.matchers
                    if str(m.op).endswith("Equal") and "Not" not in str(m.op)} if type(node.args[0]).__name__ == "VectorSelector" else set()
        if function in ("vector", "time", "scalar", "pi"):
            return set()
        if function == "label_replace":
            return arguments[0] | {node.args[1].val}
        return vectors[0] if vectors else set()

    def _aggregate(self, node, usage: Usage) -> set[str]:
        inner = self._walk(node.expr, usage)
        if node.param is not None:
            self._walk(node.param, usage)
        modifier = node.modifier
        if modifier is None:
            return inner if str(node.op) in ("topk", "bottomk", "limitk", "limit_ratio") else set()
        named = set(modifier.labels)
        for label in named - inner:
            usage.problems.append(f"{node.op} {str(modifier.type).split('.')[-1].lower()} ({label}): "
                                  f"the aggregated series have no label {label!r} (they have {sorted(inner)})")
        if str(modifier.type).endswith("By"):
            return named
        return inner - named

    def _binary(self, node, usage: Usage) -> set[str]:
        lhs, rhs = self._walk(node.lhs, usage), self._walk(node.rhs, usage)
        scalar_l = type(node.lhs).__name__ == "NumberLiteral" or not lhs and _is_scalar(node.lhs)
        scalar_r = type(node.rhs).__name__ == "NumberLiteral" or not rhs and _is_scalar(node.rhs)
        if scalar_l:
            return rhs
        if scalar_r:
            return lhs
        op = str(node.op).strip()
        modifier = node.modifier
        matching = modifier.matching if modifier is not None else None
        on = set(matching.labels) if matching is not None and str(matching.type).endswith("Include") else None
        ignoring = set(matching.labels) if matching is not None and not str(matching.type).endswith("Include") else set()
        group = set(getattr(modifier, "group_labels", None) or []) if modifier is not None else set()
        if on is not None:
            for label in on - (lhs & rhs):
                usage.problems.append(f"'{op} on ({label})': not a label of both sides "
                                      f"(left {sorted(lhs)}, right {sorted(rhs)})")
        card = str(modifier.card) if modifier is not None else "OneToOne"
        for label in group - (rhs if card.endswith("ManyToOne") else lhs):
            usage.problems.append(f"group_left/right ({label}): the other side has no label {label!r}")
        if op in ("and", "unless"):
            return lhs
        if op == "or":
            return lhs | rhs
        returns_bool = bool(modifier is not None and modifier.return_bool)
        if op in ("==", "!=", ">", "<", ">=", "<=") and not returns_bool:
            return lhs
        if card.endswith("ManyToOne"):
            return lhs | group
        if card.endswith("OneToMany"):
            return rhs | group
        if on is not None:
            return on
        return lhs - ignoring


def _is_scalar(node) -> bool:
    kind = type(node).__name__
    if kind == "NumberLiteral":
        return True
    if kind in ("ParenExpr", "UnaryExpr"):
        return _is_scalar(node.expr)
    if kind == "Call":
        return node.func.name in ("scalar", "time", "pi")
    if kind == "BinaryExpr":
        return _is_scalar(node.lhs) and _is_scalar(node.rhs)
    return False


def substitute(expression: str) -> str:
    for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expression = expression.replace(variable, value)
    return expression


TEMPLATE_LABEL = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)")
LEGEND_LABEL = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
