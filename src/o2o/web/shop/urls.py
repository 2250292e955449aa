"""The customer H5 storefront, mounted at /shop/ (namespace "shop")."""

from django.urls import path

from o2o.web.shop import account, cart, catalog, checkout, coupons, location, member, orders, payment
from o2o.web.shop.member_code import member_code
from o2o.web.shop.profile import profile
from o2o.web.shop.reviews import review_post

urlpatterns = [
    path("", catalog.home, name="home"),
    path("login", account.login, name="login"),
    path("logout", account.logout, name="logout"),
    path("location", location.location, name="location"),
    path("location/store", location.choose_store, name="choose_store"),
    path("c/<int:category_id>", catalog.category, name="category"),
    path("search", catalog.search, name="search"),
    path("p/<int:sku_id>", catalog.product, name="product"),
    path("cart", cart.cart_page, name="cart"),
    path("cart/add", cart.cart_add, name="cart_add"),
    path("cart/line", cart.cart_line, name="cart_line"),
    path("checkout", checkout.checkout, name="checkout"),
    path("orders/<int:order_id>", orders.order_page, name="order"),
    path("orders/<int:order_id>/status", orders.order_status, name="order_status"),
    path("orders/<int:order_id>/pay", payment.pay, name="pay"),
    path("orders/<int:order_id>/pay/sandbox/<str:out_trade_no>", payment.sandbox_pay, name="sandbox_pay"),
    path("orders/<int:order_id>/return", member.return_request, name="return"),
    path("me", member.me, name="me"),
    path("me/code", member_code, name="member_code"),
    path("me/profile", profile, name="profile"),
    path("coupons", coupons.coupons, name="coupons"),
    path("coupons/claim", coupons.claim, name="coupon_claim"),
    path("orders/<int:order_id>/review", review_post, name="review"),
]
