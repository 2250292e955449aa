"""Signals of the orders app, for the apps above it (orders never imports them).

``order_priced``: sent by ``placement.order_place`` inside the order's transaction, right after the
order and its lines exist, with ``order``, ``extras`` (the pricing engine's: coupons and points it
used) and ``now``. A receiver takes what the price relied on (the coupons, the points) in the same
transaction; raising an ``ApiError`` (e.g. 409 ``coupon_unavailable``) rolls the whole order back.
"""

from django.dispatch import Signal

order_priced = Signal()
