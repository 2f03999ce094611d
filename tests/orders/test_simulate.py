"""The simulator's own checks, with no worker running (whole runs are in test_integration)."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orders import selectors
from orders.management.commands.simulate import random_choices
from orders.models import Order, Shop
from orders.workflow import validate_drink_choice
from tests.orders.conftest import make_shop

pytestmark = pytest.mark.django_db(transaction=True)


def test_without_a_worker_orders_do_not_progress_and_it_says_why(db: None) -> None:
    make_shop("nowork")
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("simulate", shop="nowork", customers=2, barista_seconds=0.1,
                     arrival_seconds=0, step_timeout=1, stdout=out)
    message = str(error.value)
    assert "Orders did not progress" in message
    assert "is still NEW" in message
    assert "Is a Celery worker running" in message
    assert "Summary after" in out.getvalue()
    assert set(Order.objects.values_list("state", flat=True)) == {"NEW"}


def test_an_unknown_shop_or_bad_options_are_refused(db: None) -> None:
    with pytest.raises(CommandError, match=r"no shop called .nowhere..*seed_demo"):
        call_command("simulate", shop="nowhere", stdout=StringIO())
    make_shop("bad")
    with pytest.raises(CommandError, match="--customers"):
        call_command("simulate", shop="bad", customers=0, stdout=StringIO())
    with pytest.raises(CommandError, match="--cancel-rate"):
        call_command("simulate", shop="bad", cancel_rate=2, stdout=StringIO())


def test_a_closed_shop_is_flagged(db: None) -> None:
    shop: Shop = make_shop("closed", is_open=False)
    shop.drinks.all().update(available=False)
    with pytest.raises(CommandError, match="no drink available"):
        call_command("simulate", shop="closed", stdout=StringIO())


def test_random_choices_are_always_valid(db: None) -> None:
    shop = make_shop("menu")
    rng = random.Random(3)  # noqa: S311
    for drink in selectors.shop_menu(shop=shop, available_only=True):
        found = selectors.menu_drink(shop=shop, name=drink["name"])
        assert found is not None
        for _ in range(50):
            validate_drink_choice(found[0], random_choices(drink, rng))
