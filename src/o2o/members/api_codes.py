"""Member code API (会员码), mounted from ``o2o.members.api``.

* ``GET /members/me/code`` (the member): a fresh code, valid ``O2O["MEMBER_CODE_TTL_S"]`` seconds
  (120 by default), with its QR as inline SVG. Each call issues a new code and the older one dies
  (one live code per member); ``Cache-Control: no-store``. Staff find the member by it with ``POST /members/lookup``.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema

from o2o.fulfilment.schemas import with_errors
from o2o.members import codes
from o2o.orders.api.common import member_of

router = Router(tags=["members"])


class MemberCodeOut(Schema):
    code: str = Field(description="18 digits starting 88 (the QR carries the same digits)")
    code_display: str = Field(description="grouped 4-4-4-4-2 for the eye")
    issued_at: datetime
    expires_at: datetime = Field(description="valid while now < expires_at")
    ttl_s: int
    qr_svg: str = Field(description="the code as an inline SVG QR code")


@router.get("/me/code", response=with_errors({200: MemberCodeOut}, 409),
            summary="My member code (会员码) to show at the counter: a fresh code and its QR")
def my_code(request: HttpRequest, response: HttpResponse):
    row = codes.code_issue(member_id=member_of(request).pk)
    response["Cache-Control"] = "no-store"  # a live credential: never kept by a browser or a proxy
    return {"code": row.code, "code_display": codes.format_code(row.code),
            "issued_at": timezone.localtime(row.issued_at), "expires_at": timezone.localtime(row.expires_at),
            "ttl_s": codes.code_ttl_s(), "qr_svg": codes.qr_svg(row.code)}
