"""Asynchronous and bulk web API (§B8 of platforms-woocommerce-magento.md; example bodies
async__*, bulk__*, bulk_status__* in shared/reference/platforms/magento/).

POST|PUT /rest/<store>/async/V1/... takes one normal body; /async/bulk/V1/... takes a JSON array of
them, with path parameters moved into each body and the path segment written by<Param>
(/async/bulk/V1/configurable-products/bySku/options). The answer is HTTP 202 (Magento
WebapiAsync AsynchronousRequestProcessor sets STATUS_CODE_202) with {"bulk_uuid", "request_items":
[{"id", "data_hash", "status": "accepted"}], "errors": false}. Every body is checked like the
synchronous call first (Asynchronous\\InputParamsResolver::resolve runs ServiceInputProcessor on
each item): one bad item refuses the whole request with that item's error, nothing is scheduled.

Operations are run by the "consumer" once the virtual clock passes start + delay
(--bulk-delay-ms, default 1000 virtual ms; the clock runs --clock-scale times faster and
POST /__emulator/clock moves it); with --bulk-consumers off they stay open (status 4) forever, as
when the async.operations.all consumer is not running. Status codes: 1 complete, 2 failed
retriably, 3 failed (needs change), 4 open, 5 rejected. A failure keeps Magento's rendered
message in result_message and error_code 0, as in bulk_status__detailed__response.json.
"""

import hashlib
import json
import uuid

# route template, method -> (topic name, service executed, bulk path)
TOPICS = {
    ("/V1/products", "POST"): ("async.magento.catalog.api.productrepositoryinterface.save.post",
                               "Magento\\Catalog\\Model\\ProductRepository\\Interceptor::save"),
    ("/V1/products/{sku}", "PUT"): ("async.magento.catalog.api.productrepositoryinterface.save.put",
                                    "Magento\\Catalog\\Model\\ProductRepository\\Interceptor::save"),
    ("/V1/configurable-products/{sku}/options", "POST"): (
        "async.magento.configurableproduct.api.optionrepositoryinterface.save.post",
        "Magento\\ConfigurableProduct\\Model\\OptionRepository\\Interceptor::save"),
    ("/V1/configurable-products/{sku}/child", "POST"): (
        "async.magento.configurableproduct.api.linkmanagementinterface.addchild.post",
        "Magento\\ConfigurableProduct\\Model\\LinkManagement\\Interceptor::addChild"),
    ("/V1/inventory/source-items", "POST"): (
        "async.magento.inventoryapi.api.sourceitemssaveinterface.execute.post",
        "Magento\\Inventory\\Model\\SourceItem\\Command\\SourceItemsSave\\Interceptor::execute"),
}

STATUS_COMPLETE, STATUS_RETRIABLE, STATUS_FAILED, STATUS_OPEN, STATUS_REJECTED = 1, 2, 3, 4, 5


def serialized(params):
    return json.dumps({"entity_id": None, "entity_link": "", "meta_information": json.dumps(params)},
                      separators=(",", ":"))


def schedule(store, tpl, method, items, scope, user_type, user_id, due):
    """Record one bulk with one open operation per item; -> the 202 answer body."""
    topic, _service = TOPICS[(tpl, method)]
    bulk_uuid = str(uuid.uuid4())
    ops = []
    request_items = []
    for i, (params, path_params) in enumerate(items):
        store.seq["operation"] += 1
        data = serialized(params)
        ops.append({"id": store.seq["operation"], "bulk_uuid": bulk_uuid, "topic_name": topic,
                    "serialized_data": data, "result_serialized_data": None, "status": STATUS_OPEN,
                    "result_message": None, "error_code": None, "_tpl": tpl, "_method": method,
                    "_params": params, "_path": path_params, "_scope": scope, "_due": due})
        request_items.append({"id": i, "data_hash": hashlib.sha256(data.encode()).hexdigest(), "status": "accepted"})
    store.bulks[bulk_uuid] = {"bulk_id": bulk_uuid, "user_type": user_type, "user_id": user_id,
                              "description": "Topic %s" % topic, "start_time": store.now_text(),
                              "operations": ops}
    store.pending_ops.extend(ops)
    return {"bulk_uuid": bulk_uuid, "request_items": request_items, "errors": False}


def run_due(store, now, execute, consumers=True):
    """Run the open operations whose time has come; -> True if anything ran."""
    if not consumers:
        return False
    from .store import MagentoError
    ran = False
    # store.pending_ops: the open operations in the order they were scheduled (bulk by bulk),
    # so a request does not walk every operation ever run
    try:
        for op in store.pending_ops:
            if op["status"] != STATUS_OPEN or op["_due"] > now:
                continue
            try:
                result = execute(op["_tpl"], op["_method"], op["_params"], op["_path"], op["_scope"])
                op["status"] = STATUS_COMPLETE
                op["result_message"] = "Service execution success " + TOPICS[(op["_tpl"], op["_method"])][1]
                op["result_serialized_data"] = json.dumps(result) if result is not None else None
                op["error_code"] = None
            except MagentoError as e:
                op["status"] = STATUS_FAILED
                op["result_message"] = e.rendered()
                op["error_code"] = 0
            ran = True
    finally:
        if ran:
            store.pending_ops = [op for op in store.pending_ops if op["status"] == STATUS_OPEN]
    return ran


def public_op(op, detailed):
    if detailed:
        return {k: v for k, v in op.items() if not k.startswith("_")}
    return {"id": op["id"], "status": op["status"], "result_message": op["result_message"],
            "error_code": op["error_code"]}


def status(store, bulk_uuid, detailed):
    from .store import MagentoError
    bulk = store.bulks.get(bulk_uuid)
    if bulk is None:
        # Magento AsynchronousOperations BulkStatus: NoSuchEntityException
        raise MagentoError(404, "Bulk uuid %bulkUuid not exist", {"bulkUuid": bulk_uuid})
    return {"operations_list": [public_op(o, detailed) for o in bulk["operations"]],
            "user_type": bulk["user_type"], "bulk_id": bulk["bulk_id"], "description": bulk["description"],
            "start_time": bulk["start_time"], "user_id": bulk["user_id"],
            "operation_count": len(bulk["operations"])}


def count_status(store, bulk_uuid, status_code):
    bulk = store.bulks.get(bulk_uuid)
    if bulk is None:
        return 0
    return sum(1 for o in bulk["operations"] if o["status"] == status_code)
