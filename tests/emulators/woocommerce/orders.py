"""Orders, refunds and customers: not implemented yet.

A later task fills this module in; server.py already sends every
/wp-json/wc/v3/orders..., /refunds... and /customers... request here first,
so nothing else has to change. Return None to let the server answer
rest_no_route (404).

Traps to reproduce when this is written (shared/reference/
platforms-woocommerce-magento.md §A5-§A7):
- order money fields are strings ("21.99") but line_items[].price is a JSON
  number (total/quantity after discounts);
- refunds[].total on an order is negative ("-10.00"); refund line items carry
  negative quantities and totals; `api_refund` defaults to true;
- `modified_after` / `dates_are_gmt`; dates without offset, `_gmt` twins;
- line_items[].sku is null/"" when the product was deleted;
- `GET /wp-json/wc/v3/refunds` exists only from WooCommerce 9.0.
"""

ROUTE_PREFIXES = ("/orders", "/refunds", "/customers")


def handle(platform, req, route, params):
    """route is the part after /wc/v3 (e.g. "/orders/12/refunds")."""
    return None
