"""Orders, refunds, returns and customers: the place for the download side.

Not implemented yet. When it is, keep the same pattern as products.py and
inventory.py:
- records live in Store.orders (already created, persisted and shown in
  GET /__emulator/state as "orders"); add Store.customers the same way;
- register read resolvers with @field("QueryRoot", "orders") etc. and the
  Order/LineItem/Refund/Return field resolvers, using resolvers.connection()
  and a search.Resource for the `query:` filters of reference §A8
  (fulfillment_status, financial_status, updated_at, return_status, ...);
- seed orders through Platform.seed ({"orders": [...]}, see server.py);
- refundCreate needs @idempotent from 2026-04 (already listed in
  resolvers.IDEMPOTENT_REQUIRED_2026_04).
Until then these fields resolve to empty connections / null.
"""
