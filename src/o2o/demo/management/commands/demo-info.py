"""Print where the demo runs and how to sign in."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.catalog.models import Sku
from o2o.demo.seed import DEMO_ACCOUNTS, DEMO_MEMBER_NAME, DEMO_MEMBER_TOKEN
from o2o.inventory.models import Stock
from o2o.stores.models import Location, LocationKind


class Command(BaseCommand):
    help = "打印演示入口与账号 Print the demo URLs, logins, tokens and counts."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host: str, port: str, **options):
        base = f"http://{host}:{port}"
        kinds = {k: Location.objects.filter(kind=k).count() for k in LocationKind}
        out = self.stdout.write
        out("")
        out("o2o 全渠道零售 demo")
        out(f"  首页 Home              {base}/")
        out(f"  顾客商城 Storefront     {base}/shop/          (手机宽度 phone width; 登录用沙箱短信码 sandbox SMS code)")
        out(f"  门店工作台 Store console {base}/console/       (sh001-clerk / o2o-demo-2026)")
        out(f"  总部看板 HQ dashboard   {base}/hq/            (admin / o2o-admin-2026)")
        out(f"  管理后台 Admin          {base}/admin/")
        out(f"  API 文档 API docs       {base}/api/docs")
        out("")
        out("账号 Logins (username / password / bearer token):")
        for a in DEMO_ACCOUNTS:
            out(f"  {a.username:<15} {a.password:<15} {a.token:<28} {a.label}")
        out(f"  {'(member)':<15} {'-':<15} {DEMO_MEMBER_TOKEN:<28} {DEMO_MEMBER_NAME}")
        out("")
        out(f'  e.g. curl -H "Authorization: Bearer {DEMO_ACCOUNTS[0].token}" {base}/api/v1/locations')
        out(f'  结算配送选项 checkout options: curl -H "Authorization: Bearer {DEMO_MEMBER_TOKEN}" '
            f"-H 'Content-Type: application/json' -d '{{\"lines\": [{{\"sku_id\": 1, \"qty\": 2}}], "
            f"\"lat\": 31.19, \"lng\": 121.44}}' {base}/api/v1/fulfilment/quote")
        member = f'-H "Authorization: Bearer {DEMO_MEMBER_TOKEN}" -H "Content-Type: application/json"'
        out(f"  下单 place an order (pickup at store 1): curl {member} -H 'Idempotency-Key: demo-1' -d "
            f"'{{\"lines\": [{{\"sku_id\": 1, \"qty\": 2}}], \"channel\": \"h5\", \"choice\": \"pickup\", "
            f"\"pickup_location_id\": 1, \"lat\": 31.19, \"lng\": 121.44}}' {base}/api/v1/orders")
        out(f"  支付 pay it: curl {member} -d '{{\"order_id\": ORDER_ID, \"provider\": \"wechat\"}}' "
            f"{base}/api/v1/payments ; then curl -X POST {member} {base}/api/v1/payments/sandbox/OUT_TRADE_NO/pay")
        out(f'  门店工作台 store queue: curl -H "Authorization: Bearer demo-clerk-token" '
            f'"{base}/api/v1/store/queue?location_id=1"   (流程 the whole loop: docs/orders.md)')
        out(f"  会员码 member code: {base}/shop/me/code (signed in) -> scan or type it at {base}/console/counter "
            f"(会员查询 member look-up); API: curl {member} {base}/api/v1/members/me/code")
        out(f"  积分兑换 points exchange and coupons: {base}/shop/coupons ; 核销 at {base}/console/counter")
        out("")
        out(f"门店 stores {kinds[LocationKind.STORE]}, 中心仓 warehouses {kinds[LocationKind.WAREHOUSE]}, "
            f"前置仓 dark stores {kinds[LocationKind.DARK_STORE]}, SKUs {Sku.objects.count()}, "
            f"库存行 stock rows {Stock.objects.count()}")
        out("")
