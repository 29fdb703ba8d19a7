"""Orders (v2), refunds (v3) and customers (v3): not implemented yet.

A later task fills this module in; server.py already routes every
/stores/{hash}/v2/... request and every /v3/orders... and /v3/customers...
request here first, so nothing else has to change. Return None to let the
server answer 404.

Traps to reproduce when this is written (shared/reference/
platforms-shopify-bigcommerce.md §B5, §B6):
- `GET /v2/orders` answers **204 No Content with an empty body** (not `[]`)
  when no order matches; the other v2 lists answer plain JSON arrays, no meta.
- v2 money is a string with 4 decimals ("336.3200"), v2 dates RFC-2822.
- v2 errors are arrays: [{"status": 400, "message": "..."}].
- `status_id` takes one value; `min_date_modified` accepts RFC-2822 or ISO-8601.
- Refunds: GET /v3/orders/payment_actions/refunds?created:min=... and
  /v3/orders/{id}/payment_actions/refunds (orders.v3.yml).
"""


def handle_v2(platform, req, path):
    """path is what follows /stores/{hash}/v2 (e.g. "/orders")."""
    return None


def handle_v3(platform, req, path):
    """path is what follows /stores/{hash}/v3, for /orders... and /customers..."""
    return None
