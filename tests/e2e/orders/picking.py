"""What tests share to get a shipment past picking (every line must be confirmed picked before "ready").

``PICK_ALL``: the body of ``POST /store/shipments/{id}/ready`` that confirms every line in the same
request (as an ERP or handheld integration does); tests about the step after picking use it.
``pick_lines``: each line confirmed through ``POST .../lines/{sku_id}/pick``, as the console does.
"""

from __future__ import annotations

from typing import Any

from tests.integration.fulfilment.world import post

PICK_ALL: dict[str, Any] = {"pick_all": True}


def pick_lines(client, shipment_id: int, user, sku_ids: list[int]) -> list[dict]:  # noqa: ANN001
    """Confirm each line (whole) picked through the API; the answers, each asserted 200."""
    out = []
    for sku_id in sku_ids:
        r = post(client, f"/api/v1/store/shipments/{shipment_id}/lines/{sku_id}/pick", {}, user)
        assert r.status_code == 200, r.content
        out.append(r.json())
    return out


def console_pick_all(client, shipment_id: int) -> None:  # noqa: ANN001
    """Confirm each line of the shipment through the console (the signed-in clerk), as its 确认 buttons do."""
    from o2o.orders.models import Shipment

    for ln in Shipment.objects.get(pk=shipment_id).lines:
        r = client.post(f"/console/shipments/{shipment_id}", {"sku_id": ln["sku_id"]})
        assert r.status_code == 302, r.content
