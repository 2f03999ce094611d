"""`manage.py simulate`: robot customers and a robot barista run orders through the real
services and events (spec §8.5's order and barista robots).

Each robot customer redeems the shop's current QR code, waits for the workflow (run by the
Celery workers) to let it choose, and submits a random valid drink. The robot barista claims
each robot order once the order store has announced it, and completes it after
--barista-seconds, or cancels a share of them. The workers must be running (`make run` starts
them): an order that does not move on is reported with what to check, and the command exits
with an error."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from orders import selectors
from orders.event_details import MenuEntry
from orders.models import Customer, Order
from orders.permissions import BARISTAS_GROUP
from orders.services import (
    OrderError,
    customer_create,
    order_cancel,
    order_claim,
    order_complete,
    order_redeem,
    order_submit,
    qr_window_current,
)
from orders.workflow import FINAL_STATES, CancelledBy, OrderState

POLL_SECONDS = 0.2
ROBOT_BARISTA = "robot-barista"


@dataclass
class Robot:
    customer: Customer
    arrives_at: float
    order: Order | None = None
    refused: str = ""
    submitted: bool = False
    # When the order entered its current state (monotonic), to notice one that is stuck.
    since: float = 0.0
    seen_state: str = ""
    claimed_at: float | None = None
    cancel: bool = False

    @property
    def done(self) -> bool:
        return bool(self.refused) or (self.order is not None and self.order.state in FINAL_STATES)


def random_choices(menu_drink: MenuEntry, rng: random.Random) -> dict[str, list[str]]:
    """A valid random choice for a drink of `selectors.shop_menu`."""
    choices: dict[str, list[str]] = {}
    for group in menu_drink["groups"]:
        options = group["options"]
        if not options:
            continue
        if group["multiple"]:
            picked = [o for o in options if rng.random() < 0.3]
            if group["required"] and not picked:
                picked = [rng.choice(options)]
        elif group["required"] or rng.random() < 0.5:
            picked = [rng.choice(options)]
        else:
            picked = []
        if picked:
            choices[group["name"]] = picked
    return choices


class Command(BaseCommand):
    help = ("Runs robot customers and a robot barista through the real services and events "
            "(needs the Celery workers: `make run` starts them).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", default="main", help="The shop's slug (default: main).")
        parser.add_argument("--customers", type=int, default=5,
                            help="How many robot customers (default: 5).")
        parser.add_argument("--barista-seconds", type=float, default=5.0,
                            help="How long the robot barista takes per drink (default: 5).")
        parser.add_argument("--cancel-rate", type=float, default=0.1,
                            help="Share of orders the robot barista cancels (default: 0.1).")
        parser.add_argument("--arrival-seconds", type=float, default=1.0,
                            help="Time between two customers arriving (default: 1).")
        parser.add_argument("--step-timeout", type=float, default=20.0,
                            help="Seconds an automatic step may take before the order counts "
                                 "as stuck (default: 20).")
        parser.add_argument("--seed", type=int, default=None, help="Seed for the random picks.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 1:
            raise CommandError("--customers must be at least 1.")
        if not 0 <= options["cancel_rate"] <= 1:
            raise CommandError("--cancel-rate must be between 0 and 1.")
        try:
            shop = selectors.shop_get(slug=options["shop"])
        except OrderError as error:
            raise CommandError(f"{error.message} (create it in the admin, or run "
                               "`manage.py seed_demo` for the demo shop 'main').") from None
        self.shop = shop
        self.rng = random.Random(options["seed"])  # noqa: S311 (a simulation, not security)
        self.barista_seconds = options["barista_seconds"]
        self.step_timeout = options["step_timeout"]
        self.barista = self._robot_barista()
        menu = [d for d in selectors.shop_menu(shop=shop) if d["available"]]
        if not menu:
            raise CommandError(f"{shop.name} has no drink available: add some in the admin.")
        self.menu = menu
        if not shop.is_open:
            self.say(f"Warning: {shop.name} is closed, so every order will be turned away.")

        started = time.monotonic()
        robots = [
            Robot(
                customer=customer_create(name=f"Robot {n + 1}", robot=True),
                arrives_at=started + n * options["arrival_seconds"],
                cancel=self.rng.random() < options["cancel_rate"],
            )
            for n in range(options["customers"])
        ]
        plural = "s" if len(robots) != 1 else ""
        self.say(f"Simulating {len(robots)} customer{plural} at {shop.name}; the robot barista "
                 f"takes {self.barista_seconds:g}s per drink.")
        stuck: list[str] = []
        while not all(robot.done for robot in robots) and not stuck:
            now = time.monotonic()
            for robot in robots:
                if robot.done:
                    continue
                if robot.order is None:
                    if now >= robot.arrives_at:
                        self._arrive(robot, now)
                    continue
                problem = self._step(robot, now)
                if problem:
                    stuck.append(problem)
            time.sleep(POLL_SECONDS)
        self._summary(robots, time.monotonic() - started)
        if stuck:
            raise CommandError("Orders did not progress:\n  " + "\n  ".join(stuck))

    # -- the robots -------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.stdout.write(f"{timezone.localtime():%H:%M:%S}  {text}")

    def _robot_barista(self) -> User:
        user, created = User.objects.get_or_create(username=ROBOT_BARISTA,
                                                   defaults={"first_name": "Robot"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        group, _ = Group.objects.get_or_create(name=BARISTAS_GROUP)
        user.groups.add(group)
        return user

    def _arrive(self, robot: Robot, now: float) -> None:
        window = qr_window_current(shop=self.shop)
        try:
            robot.order = order_redeem(shop=self.shop, code=window.code, customer=robot.customer)
        except OrderError as error:
            if error.code == "window_exhausted" and error.details.get("retryAt"):
                retry_at = datetime.fromisoformat(error.details["retryAt"])
                wait = max((retry_at - timezone.now()).total_seconds(), 0) + 0.5
                robot.arrives_at = now + wait
                self.say(f"{robot.customer.name}: the QR code is used up; trying the next one "
                         f"in {wait:.0f}s.")
                return
            robot.refused = error.message
            self.say(f"{robot.customer.name}: could not order: {error.message}")
            return
        robot.since, robot.seen_state = now, robot.order.state
        self.say(f"{robot.customer.name}: scanned the code → order {robot.order.pk}.")

    def _step(self, robot: Robot, now: float) -> str:
        """Moves the robot's order on; returns a description if it is stuck."""
        assert robot.order is not None
        order = Order.objects.select_related("shop", "customer", "barista").get(
            pk=robot.order.pk
        )
        robot.order = order
        if order.state != robot.seen_state:
            robot.seen_state, robot.since = order.state, now
            self._report_state(robot)
        waited = now - robot.since
        label = f"{robot.customer.name}'s order {order.pk}"
        if order.state == OrderState.NEW and waited > self.step_timeout:
            return (f"{label} is still NEW after {waited:.0f}s: nothing started its workflow. "
                    "Is a Celery worker running (`make run` starts one)? Are the shop's rules in "
                    "place (`manage.py seed_demo` creates them)?")
        announced = order.announced_at is not None
        if order.state == OrderState.WAITING_FOR_DRINK and not robot.submitted:
            self._submit(robot)
        elif order.state == OrderState.QUEUED and announced:
            self._barista_takes(robot, now)
        elif order.state == OrderState.QUEUED and waited > self.step_timeout:
            return (f"{label} was not announced to the baristas within {waited:.0f}s: is a "
                    "Celery worker running, and is the rule WaitingCompletion "
                    "(→ orders.store.waiting_completion) enabled?")
        elif (order.state == OrderState.IN_PRODUCTION and robot.claimed_at is not None
              and now - robot.claimed_at >= self.barista_seconds):
            self._barista_finishes(robot)
        if order.state not in FINAL_STATES and waited > self.step_timeout + self.barista_seconds:
            return f"{label} has been {order.state} for {waited:.0f}s."
        return ""

    def _report_state(self, robot: Robot) -> None:
        order = robot.order
        assert order is not None
        name = robot.customer.name
        if order.state == OrderState.WAITING_FOR_DRINK:
            self.say(f"{name}: the workflow started; choosing a drink.")
        elif order.state == OrderState.SHOP_UNAVAILABLE:
            self.say(f"{name}: turned away, the shop is {order.unavailable_reason}.")
        elif order.state == OrderState.TIMED_OUT:
            self.say(f"{name}: timed out ({order.timeout_cause}).")

    def _submit(self, robot: Robot) -> None:
        assert robot.order is not None
        drink = self.rng.choice(self.menu)
        choices = random_choices(drink, self.rng)
        try:
            order = order_submit(order=robot.order, customer=robot.customer,
                                 drink_name=drink["name"], choices=choices)
        except OrderError as error:
            self.say(f"{robot.customer.name}: could not submit ({error.message}); cancelling.")
            robot.submitted = True
            try:
                order_cancel(order=robot.order, by=CancelledBy.CUSTOMER, customer=robot.customer)
            except OrderError as cancel_error:
                self.say(f"{robot.customer.name}: could not cancel: {cancel_error.message}")
            return
        robot.submitted = True
        options = ", ".join(option for picked in choices.values() for option in picked)
        article = "an" if drink["name"][:1].lower() in "aeiou" else "a"
        self.say(f"{robot.customer.name}: ordered {article} {drink['name']}"
                 f"{f' ({options})' if options else ''} → #{order.order_number}.")

    def _barista_takes(self, robot: Robot, now: float) -> None:
        assert robot.order is not None
        try:
            if robot.cancel:
                order_cancel(order=robot.order, by=CancelledBy.BARISTA, barista=self.barista,
                             reason="Cancelled by the robot barista")
                self.say(f"Robot barista: cancelled #{robot.order.order_number}.")
                return
            order_claim(order=robot.order, barista=self.barista)
        except OrderError as error:
            self.say(f"Robot barista: could not take #{robot.order.order_number}: "
                     f"{error.message}")
            return
        robot.claimed_at = now
        self.say(f"Robot barista: making #{robot.order.order_number}.")

    def _barista_finishes(self, robot: Robot) -> None:
        assert robot.order is not None
        try:
            order_complete(order=robot.order, barista=self.barista)
        except OrderError as error:
            self.say(f"Robot barista: could not complete #{robot.order.order_number}: "
                     f"{error.message}")
            robot.claimed_at = None
            return
        self.say(f"Robot barista: #{robot.order.order_number} is ready for pickup.")

    def _summary(self, robots: list[Robot], seconds: float) -> None:
        states: dict[str, int] = {}
        waits: list[timedelta] = []
        for robot in robots:
            key = "refused at the QR code" if robot.refused else (
                robot.order.state if robot.order else "never arrived")
            states[key] = states.get(key, 0) + 1
            order = robot.order
            if order and order.state == OrderState.COMPLETED and order.submitted_at \
                    and order.finished_at:
                waits.append(order.finished_at - order.submitted_at)
        self.stdout.write("")
        self.say(f"Summary after {seconds:.1f}s:")
        for state, count in sorted(states.items()):
            self.stdout.write(f"    {state:<24} {count}")
        if waits:
            average = sum(wait.total_seconds() for wait in waits) / len(waits)
            self.stdout.write(f"    average wait from order to pickup: {average:.1f}s")
