"""Publishers tests publish as: an internal test service unless a test is about publishers."""

from routing.publishers import Publisher

TEST_PUBLISHER = Publisher.service("test")
