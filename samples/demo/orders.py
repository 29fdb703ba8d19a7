#!/usr/bin/env python3
"""The demo's web orders: one shipped order per store, seeded into each emulator.

    python3 samples/demo/orders.py SHOPIFY_PORT BIGCOMMERCE_PORT WOOCOMMERCE_PORT MAGENTO_PORT

Every order sells sample items (tax code Tax, 8.25 %, as the demo's QBPOS is set up), so
the receipts posbridge makes from them balance the way QBPOS checks them.
"""
import json
import sys
import urllib.request


def seed(port, body, path="/__emulator/seed"):
    r = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), data=json.dumps(body).encode(),
                               headers={"Content-Type": "application/json"})
    urllib.request.urlopen(r, timeout=30).read()


def main():
    shop, bc, woo, mag = sys.argv[1:5]
    # Shopify: a tub and two mugs to Austin, card payment, shipping with its tax
    seed(shop, {"orders": [{
        "name": "#1001", "status": "shipped",
        "customer": {"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee"},
        "gateway": "shopify_payments",
        "shipping": {"title": "Standard", "price": "5.00", "tax": "0.41"},
        "lines": [{"sku": "2238-Aqua", "quantity": 1, "price": "34.99", "tax": "2.89"},
                  {"sku": "4410", "quantity": 2, "price": "14.99", "tax": "2.47"}]}]})
    # BigCommerce: one candle, Stripe
    seed(bc, {"orders": [{
        "id": 100, "status": "Shipped", "customer": {"email": "bo@example.com", "first_name": "Bo", "last_name": "Park"},
        "currency": "USD", "lines": [{"sku": "6301", "qty": 1, "price": 22.00, "tax": 1.82}],
        "payment": {"gateway": "stripe", "method": "Credit Card"}}]})
    # WooCommerce: a tub, Stripe
    seed(woo, {"orders": [{
        "key": "demo1", "status": "completed", "currency": "USD",
        "billing": {"first_name": "Cy", "last_name": "Ruiz", "email": "cy@example.com"},
        "payment_gateway": "stripe", "payment_method_title": "Credit Card (Stripe)",
        "lines": [{"sku": "2238-Aqua", "qty": 1, "price": "34.99", "tax": "2.89"}]}]})
    # Magento: two mugs, Braintree, shipped
    seed(mag, {"customers": [{"email": "dee@example.com", "first_name": "Dee", "last_name": "Shah"}],
               "orders": [{
        "customer": "dee@example.com", "state": "complete", "status": "complete","currency": "USD",
        "billing_address": {"first_name": "Dee", "last_name": "Shah", "street": "2 Oak St",
                            "city": "Austin", "state": "TX", "postcode": "78701", "country": "US"},
        "lines": [{"sku": "4410", "qty": 2, "price": 14.99, "tax": 2.47}],
        "payment": {"method": "braintree", "title": "Credit Card"},
        "shipments": [{}]}]})


if __name__ == "__main__":
    main()
