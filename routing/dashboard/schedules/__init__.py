"""The dashboard's Schedules page: every scheduled item, its firings, and a live preview."""
