"""Signals of the orders app, for the apps above it (orders never imports them).

``order_priced``: sent by ``placement.order_place`` inside the order's transaction, right after the
order and its lines exist, with ``order``, ``extras`` (the pricing engine's: coupons and points it
used) and ``now``. A receiver takes what the price relied on (the coupons, the points) in the same
transaction; raising an ``ApiError`` (e.g. 409 ``coupon_unavailable``) rolls the whole order back.

``cart_line_added``: sent by ``carts.cart_set_line`` / ``carts.cart_add`` after a **member's** cart gained a SKU
or units of one (never for a visitor's cart; not for lines moved by a cart or member merge), once the line is
written, with ``member_id``, ``sku_id``, ``channel`` (the cart's) and ``at``. For behaviour tracking
(``profiles.events``): a receiver must be cheap and must not raise on ordinary input (the cart change is done;
in a caller's transaction, an exception would undo it).
"""

from django.dispatch import Signal

order_priced = Signal()
cart_line_added = Signal()
