"""What a PromQL expression reads: its metric names and the labels it matches on or groups by.

No PromQL parser installs cleanly from PyPI, so this is a small tokenizer over the subset the chart's
Grafana dashboard uses. It refuses whatever it does not understand rather than skipping it, so a query it
cannot read fails the test instead of passing unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Aggregation operators: `sum by (x) (...)` puts a keyword between the name and its parenthesis.
AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile"}
)
# Keywords followed by a parenthesised list of label names.
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
OPERATOR_WORDS = frozenset({"and", "or", "unless", "bool"})

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:\\.|[^"\\])*")
      | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
      | (?P<matcher>=~|!~|!=|=)
      | (?P<op>==|>=|<=|[-+*/%^<>])
      | (?P<punct>[(){},])
    )""",
    re.VERBOSE,
)
# Range and subquery windows ([5m], [$__rate_interval], [1h:1m]) name no metric or label.
_WINDOW = re.compile(r"\[[^\]]*\]")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.*),\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$")


@dataclass
class Selector:
    metric: str
    # (label, operator, quoted value) as written
    matchers: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Query:
    selectors: list[Selector] = field(default_factory=list)
    # Labels named by by/without/on/ignoring/group_left/group_right, or asked for by label_values.
    grouping: set[str] = field(default_factory=set)

    @property
    def metrics(self) -> set[str]:
        return {s.metric for s in self.selectors}

    @property
    def labels(self) -> set[str]:
        return self.grouping | {label for s in self.selectors for label, _, _ in s.matchers}


def tokens(expr: str) -> list[tuple[str, str]]:
    text = _WINDOW.sub(" ", expr)
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read {text[position:]!r} in {expr!r}")
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def parse(expr: str) -> Query:
    """The selectors and grouping labels of one PromQL expression (or a Grafana label_values query)."""
    if wanted := _LABEL_VALUES.match(expr):
        query = parse(wanted["selector"])
        query.grouping.add(wanted["label"])
        return query
    query = Query()
    items = tokens(expr)
    i = 0
    while i < len(items):
        kind, value = items[i]
        following = items[i + 1] if i + 1 < len(items) else ("", "")
        if kind == "punct" and value == "{":
            raise ValueError(f"a selector without a metric name in {expr!r}: the test could not check it")
        if kind != "ident":
            i += 1
            continue
        if value in GROUPING:
            i += 1
            if following == ("punct", "("):
                i += 1
                while items[i] != ("punct", ")"):
                    if items[i][0] == "ident":
                        query.grouping.add(items[i][1])
                    i += 1
                i += 1
            continue
        if value in AGGREGATIONS or value in OPERATOR_WORDS or following == ("punct", "("):
            i += 1  # an aggregation, a binary operator, or a function call: its arguments come next
            continue
        if value == "offset":
            raise ValueError(f"offset is not understood here: {expr!r}")
        selector = Selector(value)
        i += 1
        if following == ("punct", "{"):
            i += 1
            while items[i] != ("punct", "}"):
                if items[i] == ("punct", ","):
                    i += 1
                    continue
                (label_kind, label), (op_kind, op), (value_kind, quoted) = items[i : i + 3]
                if (label_kind, op_kind, value_kind) != ("ident", "matcher", "string"):
                    raise ValueError(f"cannot read a matcher at {items[i : i + 3]} in {expr!r}")
                selector.matchers.append((label, op, quoted))
                i += 3
            i += 1
        query.selectors.append(selector)
    return query
