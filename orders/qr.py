"""The display's QR code: the absolute URL of the order page with the window's code, drawn as an
inline SVG by segno (no images on disk, nothing from a CDN)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from django.http import HttpRequest
from django.urls import reverse

from orders.models import QrWindow
from routing.timestamps import utc_timestamp


def order_path(shop_slug: str, code: str) -> str:
    return f"{reverse('orders:shop-order', args=[shop_slug])}?{urlencode({'code': code})}"


def order_url(request: HttpRequest, shop_slug: str, code: str) -> str:
    """What the QR code encodes: where a phone's camera takes the customer."""
    return request.build_absolute_uri(order_path(shop_slug, code))


def qr_svg(data: str, *, title: str = "QR code to start your order") -> str:
    """An inline, scalable SVG of `data` (error correction M survives a glare on the screen)."""
    code = segno.make(data, error="m", micro=False)
    return str(code.svg_inline(
        scale=8, border=2, dark="#2b1d14", light="#ffffff", title=title, omitsize=True,
        svgclass="qr-svg",
    ))


def window_for_display(request: HttpRequest, window: QrWindow) -> dict[str, Any]:
    """The current window as the display needs it: its code's URL and QR image included. Only
    staff and baristas get this (the code lets anyone order)."""
    url = order_url(request, window.shop.slug, window.code)
    return {
        "id": window.pk,
        "code": window.code,
        "url": url,
        "svg": qr_svg(url),
        "starts_at": utc_timestamp(window.starts_at),
        "ends_at": utc_timestamp(window.ends_at),
        "capacity": window.capacity,
        "remaining": window.remaining,
    }
