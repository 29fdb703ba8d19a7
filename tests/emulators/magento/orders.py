"""Orders, invoices, shipments and credit memos: not emulated yet (a later task).

Room kept for it: Store.orders and Store.creditmemos exist (empty) and are dumped with the state;
routes under /V1/orders, /V1/creditmemos, /V1/shipments answer "Request does not match any route."
until this module registers them.

Traps the implementation must reproduce (platforms-woocommerce-magento.md §B9, §B11):
* a configurable line appears twice in items[]: the PARENT row (product_type "configurable",
  sku = the chosen child's SKU) carries price, row_total, tax_amount and discount_amount; the CHILD
  row (product_type "simple", parent_item_id = the parent's item_id, same sku) has price 0.
  Credit memo items repeat the same parent/child pair.
* order-level discount_amount is negative, item-level discount_amount positive.
* dates are UTC "YYYY-MM-DD HH:MM:SS"; filter by updated_at and state (not status); increment_id is
  a string ("000000003").
* street is an array of lines in billing and shipping addresses; the shipping address lives in
  extension_attributes.shipping_assignments[0].shipping.address.
"""

ROUTES = []   # (method, path regex, handler, ACL resource) — none yet
