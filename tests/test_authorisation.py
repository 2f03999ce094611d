"""One home for who a user is (coffeeshop/authorisation.py) and one application error rendered
one way (routing/errors.py, coffeeshop/error_rendering.py), for both apps."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User

from coffeeshop.authorisation import in_group, is_signed_in, is_staff
from orders.permissions import BARISTAS_GROUP, is_barista
from orders.workflow import OrderError
from routing.errors import AccessDenied, ApplicationError, NotFound, RoutingError

ROOT = Path(__file__).resolve().parent.parent
# A read of a user's role flag: `user.is_staff`, `getattr(user, "is_staff")`, `.is_superuser`.
ROLE_FLAG_READ = re.compile(r"\.is_(staff|superuser)\b|getattr\([^)]*[\"']is_(staff|superuser)")
# coffeeshop/demo.py sets the demo accounts' flags; it checks nobody.
NOT_A_CHECK = {"coffeeshop/authorisation.py", "coffeeshop/demo.py"}
# Being ported to django-ninja on another branch, which adopts `is_staff` there; remove it then.
PORT_PENDING = {"routing/api/auth.py"}


def test_role_flags_are_read_only_by_the_authorisation_module() -> None:
    readers = sorted(
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("coffeeshop", "routing", "orders")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        and str(path.relative_to(ROOT)) not in NOT_A_CHECK | PORT_PENDING
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ROLE_FLAG_READ.search(line)
    )
    assert readers == [], "use coffeeshop.authorisation instead:\n" + "\n".join(readers)


def test_the_scan_sees_a_staff_check_written_by_hand() -> None:
    assert ROLE_FLAG_READ.search("    if not request.user.is_staff:")
    assert ROLE_FLAG_READ.search('getattr(user, "is_superuser", False)')
    assert not ROLE_FLAG_READ.search("is_staff(request.user)")


@pytest.mark.django_db
def test_an_inactive_account_is_nobody_whatever_its_flags() -> None:
    staff = User.objects.create_user("boss", is_staff=True)
    barista = User.objects.create_user("bea")
    barista.groups.add(Group.objects.create(name=BARISTAS_GROUP))
    assert (is_staff(staff), is_barista(staff), is_barista(barista)) == (True, True, True)
    assert (in_group(barista, BARISTAS_GROUP), in_group(staff, BARISTAS_GROUP)) == (True, False)
    User.objects.filter(pk__in=[staff.pk, barista.pk]).update(is_active=False)
    staff.refresh_from_db()
    barista.refresh_from_db()
    assert not any([is_signed_in(staff), is_staff(staff), is_barista(staff),
                    is_barista(barista), in_group(barista, BARISTAS_GROUP)])
    assert not any([is_staff(None), is_staff(AnonymousUser()), is_barista(AnonymousUser())])


def test_both_apps_raise_the_one_application_error_in_one_shape() -> None:
    shop_error = OrderError("Only baristas can do this.", "forbidden", "order",
                            details={"retryAt": "2026-01-01T00:00:00Z"})
    bus_error = NotFound("There is no bus x.", field="Name")
    assert isinstance(shop_error, ApplicationError)
    assert isinstance(bus_error, RoutingError)
    assert isinstance(bus_error, ApplicationError)
    assert (shop_error.http_status, bus_error.http_status, AccessDenied("no").http_status) == (
        403, 404, 403)
    assert shop_error.as_dict() == {"code": "forbidden", "message": "Only baristas can do this.",
                                    "field": "order",
                                    "details": {"retryAt": "2026-01-01T00:00:00Z"}}
    assert bus_error.as_dict() == {"code": "ResourceNotFoundException",
                                   "message": "There is no bus x.", "field": "Name"}


def test_the_workflow_and_the_error_stay_free_of_django() -> None:
    probe = ("import sys, orders.workflow, routing.errors; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'celery'}))")
    found = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                           text=True, check=True, timeout=60)
    assert found.stdout.strip() == "[]"
