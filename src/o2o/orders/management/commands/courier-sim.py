"""The courier sandbox from the command line (simulator mode; the demo).

``o2o courier-sim --advance --minutes 15`` moves the simulated couriers' clock 15 minutes
forward, minute by minute, and applies every status callback that falls due through the
callback endpoint's code path. Tasks booked by another process (the web server) are adopted
first, their timelines starting when they were created. ``--fail SHIPMENT_ID MODE`` makes a
shipment's current courier task fail (no_rider, rider_cancelled, timeout; "none" resets it;
within this process only, so combine it with ``--advance``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from o2o.adapters.couriers import FAILURE_MODES
from o2o.common.errors import ApiError
from o2o.orders import couriers, delivery_sweeps


class Command(BaseCommand):
    help = "模拟配送推进 Advance the simulated couriers and apply their callbacks"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--advance", action="store_true", help="advance the simulators")
        parser.add_argument("--minutes", type=int, default=1, help="how far (default 1)")
        parser.add_argument("--fail", nargs=2, metavar=("SHIPMENT_ID", "MODE"),
                            help=f"failure mode for a shipment's current task: {', '.join(FAILURE_MODES)} or none")

    def handle(self, *args, **opts) -> None:
        if not couriers.simulator_mode():
            raise CommandError("配送不在模拟模式 couriers are not in simulator mode")
        if not opts["advance"] and not opts["fail"]:
            raise CommandError("nothing to do: give --advance [--minutes N] and/or --fail SHIPMENT_ID MODE")
        if not 0 <= opts["minutes"] <= delivery_sweeps.MAX_SANDBOX_MINUTES:
            raise CommandError(f"--minutes must be 0..{delivery_sweeps.MAX_SANDBOX_MINUTES}")
        try:
            if opts["fail"]:
                shipment_id, mode = opts["fail"]
                if mode != "none" and mode not in FAILURE_MODES:
                    raise CommandError(f"unknown failure mode {mode!r}")
                delivery_sweeps.adopt_active()
                task = delivery_sweeps.sandbox_fail(int(shipment_id), None if mode == "none" else mode)
                self.stdout.write(f"{task.shipment_ref} ({task.provider}): {mode}")
            if opts["advance"]:
                out = delivery_sweeps.sandbox_run(opts["minutes"])
                for cb in out["callbacks"]:
                    self.stdout.write(f"{cb['at']:%H:%M} {cb['provider']:4} {cb['shipment_ref'] or '-':12} "
                                      f"{cb['status'] or '-':10} {cb['outcome']} ({cb['ack_status']})")
                self.stdout.write(f"模拟时间 sandbox time {out['now']:%Y-%m-%d %H:%M}, "
                                  f"{len(out['callbacks'])} callback(s)")
        except (ApiError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
