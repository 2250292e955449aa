"""The storefront's review (评价) of a line of a completed order, posted with htmx from the order page.

``POST /shop/orders/<order_id>/review`` {line_id, rating, text, idem}: only the signed-in member's own
order (anyone else's: 404) and one of its lines; ``o2o.reviews.services.review_create`` decides the rest
(completed, not refunded, once per line) under the form's idempotency key (a double submit replays the first
answer). The answer is the line's fragment: the review and the points it earned, or the form with the error.
Without htmx the browser is sent back to the order page.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from o2o.common.errors import ApiError
from o2o.inventory.idempotency import run_idempotent
from o2o.orders.models import Order, OrderStatus
from o2o.reviews import selectors
from o2o.reviews.models import TEXT_MAX
from o2o.reviews.services import line_refunded, review_create
from o2o.web.auth import current_member, member_required
from o2o.web.shop.labels import zh
from o2o.web.shop.payment import own_order

STARS = (5, 4, 3, 2, 1)  # the form's radio buttons, best first
STAR_ROW = (1, 2, 3, 4, 5)  # a written review's stars, left to right


def review_lines(order: Order, member_id: int) -> list[dict[str, Any]]:
    """Each line of a completed order with the member's review of it, or whether it may be reviewed."""
    if order.status != OrderStatus.COMPLETED:
        return []
    lines = list(order.lines.all())
    done = selectors.by_line(member_id, [ln.pk for ln in lines])
    return [line_item(order, ln, done.get(ln.pk)) for ln in lines]


def line_item(order: Order, line, review=None, *, error: str = "", rating: int | None = None,  # noqa: ANN001
              text: str = "") -> dict[str, Any]:
    return {"order_id": order.pk, "line": line, "review": review, "can_review": review is None
            and not line_refunded(line), "error": error, "rating": rating, "text": text,
            "idem": uuid.uuid4().hex, "stars": STARS, "star_row": STAR_ROW, "text_max": TEXT_MAX}


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 19 else None


@member_required
@require_POST
def review_post(request: HttpRequest, order_id: int) -> HttpResponse:
    member = current_member(request)
    assert member is not None
    order = own_order(request, order_id, prefetch=False)
    line_id = _int(request.POST.get("line_id"))
    line = order.lines.filter(pk=line_id).first() if line_id else None
    if line is None:
        raise Http404
    rating = _int(request.POST.get("rating"))
    text = (request.POST.get("text") or "").replace("\x00", "")
    key = (request.POST.get("idem") or "").replace("\x00", "").strip()[:120] or None
    status, error, review = 200, "", None

    def work() -> tuple[int, dict]:
        r = review_create(member=member, order_line_id=line.pk, rating=rating if rating is not None else 0,
                          text=text)
        return 201, {"review_id": r.pk}

    try:
        out = run_idempotent(operation=f"shop.review:member:{member.pk}"[:64], key=key,
                             payload={"line_id": line.pk, "rating": rating, "text": text}, work=work)
        review = selectors.by_line(member.pk, [line.pk]).get(line.pk) if out.status == 201 else None
    except ApiError as exc:
        status, error = (exc.status if 400 <= exc.status < 500 else 409), zh(exc.message)
        if exc.code == "already_reviewed":
            review = selectors.by_line(member.pk, [line.pk]).get(line.pk)
    if not request.htmx:
        return redirect(f"/shop/orders/{order.pk}#review-line-{line.pk}")
    item = line_item(order, line, review, error=error, rating=rating, text=text.strip())
    return render(request, "web/shop/_review_line.html", {"item": item, "just_posted": review is not None
                                                          and not error}, status=status)
