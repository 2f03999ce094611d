"""The directions docs/ARCHITECTURE promises, checked on the code itself: routing never reaches the
shop (orders), neither by import, direct or through another module, nor by looking its models
up by name; the pattern engine and the order workflow import nothing of Django.

Imports are read by grimp from the source (every import statement, those inside functions too),
so a lazy import cannot slip past. Lookups by name are read from routing's syntax trees: calls
of the app registry naming "orders", model labels such as "orders.Shop" (a ForeignKey's string
reference, say) and the shop's table names in SQL."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import grimp
import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
ROUTING = ROOT / "routing"
SHOP_APP = "orders"
# The app registry's calls that find an app or its models by name.
REGISTRY_LOOKUPS = frozenset({"get_model", "get_app_config", "is_installed",
                              "get_registered_model", "lazy_model_operation"})


@cache
def import_graph() -> grimp.ImportGraph:
    return grimp.build_graph("routing", "orders", "coffeeshop", cache_dir=None,
                             include_external_packages=True)


def chains(importer: str, imported: str) -> set[tuple[str, ...]]:
    return import_graph().find_shortest_chains(importer=importer, imported=imported,
                                               as_packages=True)


def test_routing_never_imports_the_shop() -> None:
    found = chains("routing", SHOP_APP)
    assert not found, "routing reaches orders by import: " + "; ".join(
        " → ".join(chain) for chain in sorted(found))


@pytest.mark.parametrize("pure", ["routing.patterns", "orders.workflow"])
def test_the_pure_cores_import_nothing_of_django(pure: str) -> None:
    for framework in ("django", "channels", "celery"):
        assert not chains(pure, framework), f"{pure} imports {framework}"
    assert not chains(pure, "routing.models")


def _shop_names() -> tuple[set[str], set[str]]:
    """The shop's model labels (lower case: "orders.shop") and table names."""
    models = list(apps.get_app_config(SHOP_APP).get_models())
    return ({model._meta.label_lower for model in models},
            {model._meta.db_table for model in models})


def _called_name(call: ast.Call) -> str:
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else ""


def _names_the_shop(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)
            and (node.value == SHOP_APP or node.value.startswith(f"{SHOP_APP}.")))


def lookups_by_name(source: str, filename: str) -> Iterator[str]:
    """Where `source` finds the shop's app or models by name rather than by import."""
    labels, tables = _shop_names()
    table_words = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(tables))) + r")\b")
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and _called_name(node) in REGISTRY_LOOKUPS and any(
                _names_the_shop(argument) for argument in node.args):
            yield f"{where}: {_called_name(node)}({ast.unparse(node.args[0])}, ...)"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.lower() in labels:
                yield f"{where}: the model label {node.value!r}"
            elif table_words.search(node.value):
                yield f"{where}: the shop's table in {node.value[:60]!r}"


def test_routing_never_looks_the_shop_up_by_name() -> None:
    found = [
        hit
        for path in sorted(ROUTING.rglob("*.py"))
        for hit in lookups_by_name(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert not found, "routing finds orders by name:\n" + "\n".join(found)


@pytest.mark.parametrize("source", [
    'from django.apps import apps\nShop = apps.get_model("orders", "Shop")\n',
    'from django.apps import apps\nShop = apps.get_model("orders.Shop")\n',
    'import django.apps\nif django.apps.apps.is_installed("orders"): pass\n',
    'from django.db import models\nshop = models.ForeignKey("orders.Shop", on_delete=None)\n',
    'SQL = "SELECT count(*) FROM orders_dailymetric WHERE shop_id = %s"\n',
])
def test_the_scan_sees_each_kind_of_lookup(source: str) -> None:
    assert list(lookups_by_name(source, "routing/example.py"))


def test_the_scan_leaves_handler_names_alone() -> None:
    # Subscribers register under names such as "orders.metrics.record"; rules name them.
    source = 'HANDLERS = ["orders.metrics.record", "orders.live.push"]\n'
    assert list(lookups_by_name(source, "routing/example.py")) == []
