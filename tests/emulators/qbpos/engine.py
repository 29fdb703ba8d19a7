"""QuickBooks Point of Sale as a request processor: qbposXML request document in, response out.

Reference: shared/reference/qbpos.md (cited as §N) and qbposxmlops30.xml (the DTD in sample form).

What happens to a request document, in order (as QBPOSXMLRP.ProcessRequest does):
1. parse: it must be well-formed XML with the <?qbposxml version="X"?> processing instruction, a
   QBPOSXML root and one QBPOSXMLMsgsRq with onError (§2.1). Every request in it is then checked
   against the DTD (spec.py): child order, unknown or missing elements, choices, attribute values,
   elements newer than the declared version. Any of these fails the WHOLE call, not one request:
   the processor raises HRESULT 0x80040400 "QuickBooks found an error when parsing the provided XML
   text stream." and returns no response document (§10.1 item 2, §10.2 HRESULT table; qbXML
   behaviour, which qbposXML shares — §3.2 marks the QBPOS side as an inference).
2. run each request in document order. A request that fails gets an Error status on its own Rs
   (statusCode / statusSeverity / statusMessage, §2.2, §10). With onError="stopOnError" the requests
   after the first Error are not processed and get no Rs (§2.2); with continueOnError they run.
   Nothing is rolled back.
3. write the response the way real QBPOS does (§2.2, §3.3, samples/qbpos/README.md): windows-1252
   bytes with that encoding declared, no qbposxml PI, CRLF line ends, attributes in alphabetical
   order, ListID/TxnID and the two times first, then the other scalar fields in case-insensitive
   alphabetical order, then aggregates in schema order (children alphabetical inside them), empty
   fields omitted, booleans True/False, money and quantities with 2 decimals, ListIDs/TxnIDs signed
   64-bit integers as text.
"""

import copy
import datetime as _dt
import random
import re
import uuid
import xml.etree.ElementTree as ET
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .spec import KNOWN_VERSIONS, SpecError, get_spec, validate_element

PARSE_HRESULT = "0x80040400"
PARSE_MESSAGE = "QuickBooks found an error when parsing the provided XML text stream."

STATUS_OK = "Status OK"
# statusCode 1 is Info, not an error: "A query request did not find a matching object" (§10.2).
MSG_NO_MATCH = "A query request did not find a matching object"

NUMERIC_TYPES = {"AMTTYPE", "QUANTYPE", "INTTYPE", "FLOATTYPE", "PERCENTTYPE", "PRICETYPE"}
TWO_DECIMALS = {"AMTTYPE", "QUANTYPE", "FLOATTYPE", "PERCENTTYPE", "PRICETYPE"}
TIME_FIRST = ("ListID", "TxnID", "TimeCreated", "TimeModified")
INVENTORY_TYPES = {"Inventory", "Assembly"}   # item types whose on-hand quantity moves
TENDER_KINDS = (("TenderAccount", "Account"), ("TenderCash", "Cash"), ("TenderCheck", "Check"),
                ("TenderCreditCard", "CreditCard"), ("TenderDebitCard", "DebitCard"),
                ("TenderDeposit", "Deposit"), ("TenderGift", "Gift"), ("TenderGiftCard", "GiftCard"))

CENT = Decimal("0.01")


class ParseFailure(Exception):
    """The whole call failed (HRESULT); there is no response document."""

    def __init__(self, detail):
        super().__init__("%s: %s %s" % (PARSE_HRESULT, PARSE_MESSAGE, detail))
        self.hresult = PARSE_HRESULT
        self.message = PARSE_MESSAGE
        self.detail = detail


class RqError(Exception):
    """One request failed: its Rs carries this status."""

    def __init__(self, code, message, severity="Error"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.severity = severity


def not_found(ident):
    # 3120 "Object ... specified in the request cannot be found." (§10.2, qbXML public fixtures)
    return RqError(3120, 'Object "%s" specified in the request cannot be found.' % ident)


def invalid_value(field, value):
    # 3210 "Invalid field value" (§10.2; qbXML code, QBPOS equivalent unverified)
    return RqError(3210, 'The "%s" field has an invalid value "%s".' % (field, value))


def money(d):
    return str(Decimal(d).quantize(CENT, rounding=ROUND_HALF_UP))


def dec(text):
    return Decimal(str(text).strip())


# --------------------------------------------------------------------------- time


def _zone(name):
    try:
        import zoneinfo
        return zoneinfo.ZoneInfo(name)
    except Exception:  # no tz database: US Central standard time
        return _dt.timezone(_dt.timedelta(hours=-6))


def parse_datetime(text, zone):
    """DATETIMETYPE: with an offset, or local store time without one (§3.1)."""
    s = text.strip()
    if len(s) == 10:
        s += "T00:00:00"
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    d = _dt.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=zone)
    return d.timestamp()


def format_datetime(epoch, zone):
    d = _dt.datetime.fromtimestamp(int(epoch), zone)
    return d.isoformat()


# --------------------------------------------------------------------------- values


def normalize(node, text, zone):
    """Check a request leaf against its type and return it in QBPOS output form; RqError if bad."""
    t = node.type
    raw = text if text is not None else ""
    v = raw.strip()
    try:
        if t == "BOOLTYPE":
            if v.lower() not in ("true", "false"):
                raise ValueError
            return "True" if v.lower() == "true" else "False"
        if t == "INTTYPE":
            return str(int(v))
        if t in TWO_DECIMALS:
            return money(dec(v))
        if t == "DATETYPE":
            return _dt.date.fromisoformat(v).isoformat()
        if t == "DATETIMETYPE":
            return format_datetime(parse_datetime(v, zone), zone)
        if t == "IDTYPE":
            n = int(v)
            if not -(2 ** 63) <= n < 2 ** 63:
                raise ValueError
            return str(n)
        if t == "ENUMTYPE" and node.enum:
            for e in node.enum:
                if e.lower() == v.lower():
                    return e
            raise ValueError
    except (ValueError, InvalidOperation, ArithmeticError):
        raise invalid_value(node.name, raw)
    return raw


def sort_key_ci(name):
    return (name.lower(), name)


# --------------------------------------------------------------------------- state


def new_state(stores=2, timezone="America/Chicago"):
    return {
        "company": {"stores": stores, "storeNumber": 1, "timezone": timezone, "taxRates": {"Tax": "0", "Non": "0"},
                    "companyName": "Emulated POS Company"},
        "departments": {},
        "vendors": {},
        "items": {},
        "customers": {},
        "receipts": {},
        "iterators": {},
        "counters": {"itemNumber": 1000, "salesReceiptNumber": 1, "idSeq": 0, "messageSets": 0,
                     "requests": 0, "requestsByType": {}, "parseFailures": 0, "errors": 0},
        "seed": 20261127,
    }


class Engine:
    """The emulated POS company. `state` is a JSON-able dict (see new_state)."""

    def __init__(self, state=None, clock=None):
        self.spec = get_spec()
        self.state = state if state is not None else new_state()
        self.clock = clock   # object with now() -> epoch seconds; None = wall clock

    # ------------------------------------------------------------------ helpers
    @property
    def zone(self):
        return _zone(self.state["company"].get("timezone", "America/Chicago"))

    def now(self):
        import time
        return self.clock.now() if self.clock else time.time()

    def now_text(self):
        return format_datetime(self.now(), self.zone)

    def today(self):
        return _dt.datetime.fromtimestamp(self.now(), self.zone).date().isoformat()

    def new_id(self):
        """A signed 64-bit ListID/TxnID, like -9219886962259885823 (§3.1), reproducible per state."""
        c = self.state["counters"]
        c["idSeq"] += 1
        taken = set(self.state["items"]) | set(self.state["departments"]) | set(self.state["customers"]) | \
            set(self.state["receipts"]) | set(self.state["vendors"])
        rng = random.Random("%s:%d" % (self.state.get("seed", 0), c["idSeq"]))
        while True:
            n = rng.randrange(-(2 ** 63), 2 ** 63)
            if abs(n) > 10 ** 9 and str(n) not in taken:
                return str(n)

    def stores(self):
        return int(self.state["company"].get("stores", 2))

    # ------------------------------------------------------------------ the call
    def process(self, data):
        """Request document bytes -> response document bytes. Raises ParseFailure."""
        c = self.state["counters"]
        c["messageSets"] += 1
        try:
            version, msgs = self._parse(data)
        except (SpecError, ParseFailure) as e:
            c["parseFailures"] += 1
            if isinstance(e, ParseFailure):
                raise
            raise ParseFailure(e.detail)
        on_error = msgs.get("onError")
        macros = {}
        out = []
        for rq in list(msgs):
            c["requests"] += 1
            c["requestsByType"][rq.tag] = c["requestsByType"].get(rq.tag, 0) + 1
            rs = self._run(rq, macros, version)
            out.append(rs)
            if rs["severity"] == "Error":
                c["errors"] += 1
                if on_error == "stopOnError":
                    break
        return self.render(out)

    def _parse(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        head = data[:400].decode("latin-1")
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            raise ParseFailure("The document is not well-formed XML: %s." % e)
        m = re.search(r"<\?qbposxml\s+version\s*=\s*[\"']([^\"']+)[\"']\s*\?>", head)
        if not m:
            raise ParseFailure("The <?qbposxml version=\"...\"?> processing instruction is missing.")
        version = m.group(1)
        if version not in KNOWN_VERSIONS:
            raise ParseFailure("Unsupported qbposXML version \"%s\"." % version)
        if root.tag != "QBPOSXML":
            raise ParseFailure("The root element must be QBPOSXML, not %s." % root.tag)
        kids = list(root)
        if len(kids) != 1 or kids[0].tag != "QBPOSXMLMsgsRq":
            raise ParseFailure("QBPOSXML must contain exactly one QBPOSXMLMsgsRq.")
        msgs = kids[0]
        # QBPOSXMLMsgsRq: onError required (ops file lines 76-78), then any number of requests
        # in any order (§2.1 "any number of *Rq, in order").
        try:
            spec_msgs = self.spec.msgs_rq
            for aname in msgs.attrib:
                if aname not in spec_msgs.attrs:
                    raise SpecError("Attribute '%s' on element 'QBPOSXMLMsgsRq' is not defined." % aname)
            on_error = msgs.get("onError")
            if on_error is None:
                raise SpecError("Required attribute 'onError' is missing on element 'QBPOSXMLMsgsRq'.")
            if on_error not in spec_msgs.attrs["onError"]["enum"]:
                raise SpecError("Value '%s' of attribute 'onError' is not one of: continueOnError, stopOnError."
                                % on_error)
            for rq in msgs:
                node = self.spec.requests.get(rq.tag)
                if node is None:
                    raise SpecError("Element '%s' is not a qbposXML request." % rq.tag)
                validate_element(rq, node, version, "QBPOSXMLMsgsRq")
        except SpecError as e:
            raise ParseFailure(e.detail)
        return version, msgs

    # ------------------------------------------------------------------ dispatch
    def _run(self, rq, macros, version):
        name = rq.tag
        rs_name = name[:-2] + "Rs"
        rs_node = self.spec.responses.get(rs_name)
        base = {"name": rs_name, "attrs": {}, "severity": "Info", "code": 0, "message": STATUS_OK, "rets": [],
                "ret_node": None}
        if rq.get("requestID") is not None:
            base["attrs"]["requestID"] = rq.get("requestID")
        ret_node = None
        for n in (rs_node.children() if rs_node else []):
            if not n.is_leaf:
                ret_node = n
                break
        base["ret_node"] = ret_node
        handler = getattr(self, "rq_" + name[:-2], None)
        try:
            if handler is None:
                raise RqError(3250, "This request is valid qbposXML but the emulator does not implement %s." % name)
            handler(rq, base, macros)
        except RqError as e:
            base["severity"] = e.severity
            base["code"] = e.code
            base["message"] = e.message
            base["rets"] = []
            for k in ("retCount", "iteratorRemainingCount", "iteratorID"):
                base["attrs"].pop(k, None)
        return base

    # ------------------------------------------------------------------ request reading
    def _fields(self, elem, node, macros, skip=()):
        """Leaves of an Add/Mod aggregate -> {name: normalized text}; nested aggregates -> dict/list."""
        out = {}
        for child in elem:
            if child.tag in skip:
                continue
            cnode = node.child(child.tag)
            if cnode.is_leaf:
                value = self._leaf(child, cnode, macros)
                if value == "" and cnode.type != "STRTYPE":
                    continue
                out[child.tag] = value
            else:
                sub = self._fields(child, cnode, macros)
                if cnode.max is None:
                    out.setdefault(child.tag, []).append(sub)
                else:
                    out[child.tag] = sub
        return out

    def _leaf(self, elem, node, macros):
        use = elem.get("useMacro")
        if use is not None:
            if use not in macros:
                raise not_found(use)
            return macros[use]
        return normalize(node, elem.text, self.zone)

    def _check_values(self, elem, node, macros):
        """Every leaf of a request (filters included) must have a valid value for its type."""
        for child in elem:
            cnode = node.child(child.tag)
            if cnode is None:
                continue
            if cnode.is_leaf:
                self._leaf(child, cnode, macros)
            else:
                self._check_values(child, cnode, macros)

    def _def_macro(self, agg, ident, macros):
        name = agg.get("defMacro")
        if name:
            macros[name] = ident

    # ------------------------------------------------------------------ departments
    def rq_DepartmentAdd(self, rq, rs, macros):
        node = self.spec.requests["DepartmentAddRq"].child("DepartmentAdd")
        agg = rq.find("DepartmentAdd")
        f = self._fields(agg, node, macros)
        code = f["DepartmentCode"]
        for d in self.state["departments"].values():
            if d.get("DepartmentCode", "").lower() == code.lower():
                # 3100 "The name ... of the list element is already in use." (§10.2, qbXML)
                raise RqError(3100, 'The name "%s" of the list element is already in use.' % code)
        rec = self.add_department(f)
        self._def_macro(agg, rec["ListID"], macros)
        rs["rets"] = [self._select(rec, rq)]

    def add_department(self, f, list_id=None):
        now = self.now_text()
        rec = {"ListID": list_id or self.new_id(), "TimeCreated": now, "TimeModified": now,
               "StoreExchangeStatus": "Modified", "TaxCode": "Tax"}
        rec.update(f)
        self.state["departments"][rec["ListID"]] = rec
        return rec

    def rq_DepartmentMod(self, rq, rs, macros):
        node = self.spec.requests["DepartmentModRq"].child("DepartmentMod")
        agg = rq.find("DepartmentMod")
        f = self._fields(agg, node, macros)
        rec = self.state["departments"].get(f["ListID"])
        if rec is None:
            raise not_found(f["ListID"])
        rec.update(f)
        rec["TimeModified"] = self.now_text()
        rs["rets"] = [self._select(rec, rq)]

    def rq_DepartmentQuery(self, rq, rs, macros):
        self._query(rq, rs, macros, "departments", "DepartmentQueryRq")

    # ------------------------------------------------------------------ items
    def rq_ItemInventoryAdd(self, rq, rs, macros):
        node = self.spec.requests["ItemInventoryAddRq"].child("ItemInventoryAdd")
        agg = rq.find("ItemInventoryAdd")
        f = self._fields(agg, node, macros)
        rec = self.add_item(f)
        self._def_macro(agg, rec["ListID"], macros)
        rs["rets"] = [self._select(rec, rq)]

    def add_item(self, f, keep_ids=False):
        """Create an item from normalized fields, filling what QBPOS fills (as in the samples)."""
        dep = self.state["departments"].get(f.get("DepartmentListID", ""))
        if dep is None:
            raise not_found(f.get("DepartmentListID", ""))
        self._check_alu(f.get("ALU"), None)
        now = self.now_text()
        c = self.state["counters"]
        list_id = f.get("ListID") if keep_ids and f.get("ListID") else self.new_id()
        if keep_ids and f.get("ItemNumber"):
            number = int(f["ItemNumber"])
        else:
            number = max([c["itemNumber"]] + [int(i.get("ItemNumber", 0)) for i in self.state["items"].values()]) + 1
        c["itemNumber"] = max(c["itemNumber"], number)
        item_type = f.get("ItemType", "Inventory")
        rec = {"ListID": list_id, "TimeCreated": now, "TimeModified": now, "ItemNumber": str(number),
               "ItemType": item_type, "Cost": "0.00", "IsBelowReorder": "False", "IsEligibleForCommission": "True",
               "IsEligibleForRewards": "True", "IsPrintingTags": "True", "IsUnorderable": "False",
               "IsWebItem": "False", "HasPictures": "False", "MSRP": "0.00", "OrderCost": "0.00",
               "Price1": "0.00", "QuantityOnCustomerOrder": "0.00", "QuantityOnOrder": "0.00",
               "QuantityOnPendingOrder": "0.00", "ReorderPoint": "0.00", "SerialFlag": "Optional",
               "StoreExchangeStatus": "Modified", "TaxCode": dep.get("TaxCode", "Tax"), "Weight": "0.00",
               "COGSAccount": "Cost of Goods Sold", "IncomeAccount": "Merchandise Sales"}
        rec.update({k: v for k, v in f.items() if k not in ("ListID", "ItemNumber")})
        for n in range(2, 6):
            rec.setdefault("Price%d" % n, rec["Price1"])   # price levels follow Price1 (markdown 0, §5.4)
        rec.setdefault("WebPrice", rec["Price1"])          # §13: WebPrice is filled even for non-web items
        if item_type in INVENTORY_TYPES:
            for s in range(1, self.stores() + 1):
                rec.setdefault("OnHandStore%02d" % s, "0.00")
            rec["AvailableQty"] = [{"StoreNumber": str(s), "QuantityOnCustomerOrder": "0.00",
                                    "QuantityOnOrder": "0.00", "QuantityOnPendingOrder": "0.00"}
                                   for s in range(1, self.stores() + 1)]
        for n in (1, 2, 3):
            rec.setdefault("UnitOfMeasure%d" % n, {"MSRP": "0.00", "NumberOfBaseUnits": "0.00", "Price1": "0.00",
                                                   "Price2": "0.00", "Price3": "0.00", "Price4": "0.00",
                                                   "Price5": "0.00"})
        for n in (2, 3, 4, 5):
            rec.setdefault("VendorInfo%d" % n, {"OrderCost": "0.00"})
        self._derive_item(rec)
        self.state["items"][list_id] = rec
        return rec

    def _check_alu(self, alu, own_id):
        if not alu:
            return
        for lid, it in self.state["items"].items():
            if lid != own_id and it.get("ALU", "").lower() == alu.lower():
                # ALU "must be unique; Duplicate Alternate Lookups are not allowed" (§6, QBPOS v6 help)
                raise RqError(3100, 'The name "%s" of the list element is already in use.' % alu)

    def _derive_item(self, rec):
        dep = self.state["departments"].get(rec.get("DepartmentListID", ""))
        if dep and dep.get("DepartmentCode"):
            rec["DepartmentCode"] = dep["DepartmentCode"]
        ven = self.state["vendors"].get(rec.get("VendorListID", ""))
        if ven and ven.get("VendorCode"):
            rec["VendorCode"] = ven["VendorCode"]
        stores = [k for k in rec if re.match(r"^OnHandStore\d\d$", k)]
        if stores:
            total = sum(dec(rec[k]) for k in stores)
            rec["QuantityOnHand"] = money(total)
            rp = rec.get("ReorderPoint")
            if rp is not None:
                rec["IsBelowReorder"] = "True" if total < dec(rp) else "False"

    def rq_ItemInventoryMod(self, rq, rs, macros):
        node = self.spec.requests["ItemInventoryModRq"].child("ItemInventoryMod")
        agg = rq.find("ItemInventoryMod")
        f = self._fields(agg, node, macros)
        rec = self.state["items"].get(f["ListID"])
        if rec is None:
            raise not_found(f["ListID"])
        if "DepartmentListID" in f and f["DepartmentListID"] not in self.state["departments"]:
            raise not_found(f["DepartmentListID"])
        self._check_alu(f.get("ALU"), rec["ListID"])
        rec.update(f)
        rec["TimeModified"] = self.now_text()
        self._derive_item(rec)
        rs["rets"] = [self._select(rec, rq)]

    def rq_ItemInventoryQuery(self, rq, rs, macros):
        self._query(rq, rs, macros, "items", "ItemInventoryQueryRq")

    # ------------------------------------------------------------------ customers
    def rq_CustomerAdd(self, rq, rs, macros):
        node = self.spec.requests["CustomerAddRq"].child("CustomerAdd")
        agg = rq.find("CustomerAdd")
        f = self._fields(agg, node, macros)
        rec = self.add_customer(f)
        self._def_macro(agg, rec["ListID"], macros)
        rs["rets"] = [self._select(rec, rq)]

    def add_customer(self, f):
        now = self.now_text()
        rec = {"ListID": self.new_id(), "TimeCreated": now, "TimeModified": now, "AccountBalance": "0.00",
               "AccountLimit": "0.00", "AmountPastDue": "0.00", "CustomerDiscPercent": "0.00",
               "CustomerDiscType": "None", "IsAcceptingChecks": "True", "IsUsingChargeAccount": "False",
               "IsUsingWithQB": "True", "IsRewardsMember": "False", "IsNoShipToBilling": "False",
               "IsOkToEMail": "False", "PriceLevelNumber": "1", "StoreExchangeStatus": "Modified"}
        rec.update(f)
        rec["FullName"] = " ".join(x for x in (f.get("FirstName"), f.get("LastName")) if x)
        self.state["customers"][rec["ListID"]] = rec
        return rec

    def rq_CustomerMod(self, rq, rs, macros):
        node = self.spec.requests["CustomerModRq"].child("CustomerMod")
        agg = rq.find("CustomerMod")
        f = self._fields(agg, node, macros)
        rec = self.state["customers"].get(f["ListID"])
        if rec is None:
            raise not_found(f["ListID"])
        rec.update(f)
        rec["FullName"] = " ".join(x for x in (rec.get("FirstName"), rec.get("LastName")) if x)
        rec["TimeModified"] = self.now_text()
        rs["rets"] = [self._select(rec, rq)]

    def rq_CustomerQuery(self, rq, rs, macros):
        self._query(rq, rs, macros, "customers", "CustomerQueryRq")

    # ------------------------------------------------------------------ sales receipts
    def rq_SalesReceiptQuery(self, rq, rs, macros):
        self._query(rq, rs, macros, "receipts", "SalesReceiptQueryRq")

    def rq_SalesReceiptAdd(self, rq, rs, macros):
        node = self.spec.requests["SalesReceiptAddRq"].child("SalesReceiptAdd")
        agg = rq.find("SalesReceiptAdd")
        f = self._fields(agg, node, macros)
        rec = self.add_receipt(f)
        self._def_macro(agg, rec["TxnID"], macros)
        rs["rets"] = [self._select(rec, rq)]

    def add_receipt(self, f):
        """Recompute the receipt as QBPOS does and refuse it when the tenders do not pay it (§9.1).

        Lines: unit price = Price, else ExtendedPrice / Qty rounded to the cent, else the item's
        price for the receipt's price level; the line amount is recomputed as unit x Qty (so a line
        total that does not divide by its quantity leaves an "undefined amount", the cause Teapplix
        names). Line Discount / DiscountPercent come off the line; the receipt Discount /
        DiscountPercent comes off the subtotal, spread over the lines for tax. Tax = line amount x
        the company rate for the line's TaxCode (items' TaxCode, default 0 % here). Shipping is
        ShippingInformation/Shipping. Total = subtotal - discount + tax + shipping; the sum of all
        TenderAmounts must equal it, else statusCode 20004 "The receipt is not balanced. Undefined
        amount is X." with X = total - tendered (Teapplix help, pastebin capture, §9.1, §10.2).
        The exact formula is an inference (§9.1); rounding is half-up per line.
        Returns (SalesReceiptType Return): the sign convention is not documented (§9.3). Lines
        here count the quantity back into stock whatever the sign of Qty; amounts are negative
        on the receipt, and tenders balance it when their total has the same size (either sign).
        """
        st = self.state
        rtype = f.get("SalesReceiptType", "Sales")
        is_return = rtype in ("Return", "Refund")
        store = int(f.get("StoreNumber", st["company"].get("storeNumber", 1)))
        if not 1 <= store <= self.stores():
            raise invalid_value("StoreNumber", f.get("StoreNumber"))
        customer = None
        if f.get("CustomerListID"):
            customer = st["customers"].get(f["CustomerListID"])
            if customer is None:
                raise not_found(f["CustomerListID"])
        level = int(f.get("PriceLevelNumber", customer.get("PriceLevelNumber", "1") if customer else "1"))
        rates = st["company"].get("taxRates", {})
        lines = []
        for li in f.get("SalesReceiptItemAdd", []):
            item = st["items"].get(li["ListID"])
            if item is None:
                raise not_found(li["ListID"])
            qty = dec(li.get("Qty", "1"))
            if "Price" in li:
                price = dec(li["Price"])
            elif "ExtendedPrice" in li:
                if qty == 0:
                    raise invalid_value("Qty", li.get("Qty"))
                price = (dec(li["ExtendedPrice"]) / qty).quantize(CENT, rounding=ROUND_HALF_UP)
            else:
                price = dec(item.get("Price%d" % level, item.get("Price1", "0")))
            sign = Decimal(-1) if is_return else Decimal(1)
            qty_abs = abs(qty)
            ext = (price * qty_abs).quantize(CENT, rounding=ROUND_HALF_UP)
            if "Discount" in li:
                disc = dec(li["Discount"])
            elif "DiscountPercent" in li:
                disc = (ext * dec(li["DiscountPercent"]) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            else:
                disc = Decimal(0)
            tax_code = li.get("TaxCode", item.get("TaxCode", "Tax"))
            rate = dec(rates.get(tax_code, "0"))
            lines.append({"li": li, "item": item, "qty": qty_abs, "price": price, "ext": ext, "disc": disc,
                          "net": ext - disc, "tax_code": tax_code, "rate": rate, "sign": sign})
        subtotal = sum((l["net"] for l in lines), Decimal(0))
        if "Discount" in f:
            rdisc = dec(f["Discount"])
        elif "DiscountPercent" in f:
            rdisc = (subtotal * dec(f["DiscountPercent"]) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            rdisc = Decimal(0)
        left = rdisc
        tax_total = Decimal(0)
        for i, l in enumerate(lines):
            if i == len(lines) - 1:
                share = left
            else:
                share = ((rdisc * l["net"] / subtotal) if subtotal else Decimal(0)).quantize(CENT, ROUND_HALF_UP)
            left -= share
            l["tax"] = ((l["net"] - share) * l["rate"] / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            tax_total += l["tax"]
        shipping = dec(f.get("ShippingInformation", {}).get("Shipping", "0"))
        total = subtotal - rdisc + tax_total + shipping
        tendered = Decimal(0)
        kinds = []
        for key, kind in TENDER_KINDS:
            for t in f.get(key + "Add", []):
                tendered += dec(t["TenderAmount"])
                kinds.append(kind)
        if is_return:
            undefined = abs(total) - abs(tendered)
        else:
            undefined = total - tendered
        if undefined != 0:
            raise RqError(20004, "The receipt is not balanced. Undefined amount is %s." % money(undefined))

        # accepted: move stock, write the receipt
        now = self.now_text()
        for l in lines:
            item = l["item"]
            if item.get("ItemType", "Inventory") in INVENTORY_TYPES:
                key = "OnHandStore%02d" % store
                on_hand = dec(item.get(key, "0"))
                on_hand = on_hand + l["qty"] if is_return else on_hand - l["qty"]
                item[key] = money(on_hand)
                # Quantity changes made by other transactions do not bump the item's TimeModified
                # (§5.3 inference, from the Intuit ItemInventoryQuery page).
                self._derive_item(item)
        c = st["counters"]
        number = c["salesReceiptNumber"]
        c["salesReceiptNumber"] += 1
        sgn = Decimal(-1) if is_return else Decimal(1)
        rec = {"TxnID": self.new_id(), "TimeCreated": now, "TimeModified": now, "HistoryDocStatus": "Regular",
               "ItemsCount": str(len(lines)), "PriceLevelNumber": str(level),
               "QuickBooksFlag": f.get("QuickBooksFlag", "NotPosted"), "SalesReceiptNumber": str(number),
               "SalesReceiptType": rtype, "StoreExchangeStatus": "Modified", "StoreNumber": str(store),
               "Subtotal": money(sgn * subtotal), "TaxAmount": money(sgn * tax_total),
               "TenderType": ("None" if not kinds else kinds[0] if len(kinds) == 1 else "Split"),
               "Total": money(sgn * total), "TxnDate": f.get("TxnDate", self.today()),
               "TxnState": f.get("TxnState", "Normal"), "Workstation": f.get("Workstation", "1")}
        for k in ("Associate", "Cashier", "Comments", "CustomerListID", "DiscountPercent", "PromoCode",
                  "SalesOrderTxnID", "ShipDate", "TaxCategory", "TipReceiver", "TrackingNumber"):
            if k in f:
                rec[k] = f[k]
        if rdisc:
            rec["Discount"] = money(rdisc)
        if customer:
            bill = {k: customer[k] for k in ("CompanyName", "FirstName", "LastName", "Phone", "Salutation")
                    if customer.get(k)}
            for k, v in (customer.get("BillAddress") or {}).items():
                bill[k] = v
            if bill:
                rec["BillingInformation"] = bill
            customer["LastSale"] = rec["TxnDate"]
        if "ShippingInformation" in f:
            rec["ShippingInformation"] = dict(f["ShippingInformation"])
        rows = []
        for l in lines:
            item, li = l["item"], l["li"]
            row = {"ListID": item["ListID"], "Cost": item.get("Cost", "0.00"),
                   "DiscountSource": "Manual" if l["disc"] else "None",
                   "ExtendedPrice": money(l["sign"] * l["ext"]), "ExtendedTax": money(l["sign"] * l["tax"]),
                   "ItemNumber": item.get("ItemNumber"), "Price": money(l["price"]), "PriceLevelNumber": str(level),
                   "Qty": money(l["sign"] * l["qty"]), "TaxAmount": money(l["sign"] * l["tax"]),
                   "TaxCode": l["tax_code"], "TaxPercentage": money(l["rate"])}
            if l["disc"]:
                row["Discount"] = money(l["disc"])
            for k in ("ALU", "Attribute", "Desc1", "Desc2", "Size", "UPC", "WebDesc", "Manufacturer", "Weight"):
                if item.get(k):
                    row[k] = item[k]
            for k in ("Associate", "Commission", "DiscountPercent", "DiscountType", "SerialNumber",
                      "UnitOfMeasure", "ALU", "Attribute", "Desc1", "Desc2", "Size", "UPC"):
                if k in li:
                    row[k] = li[k]
            rows.append({k: v for k, v in row.items() if v not in (None, "")})
        if rows:
            rec["SalesReceiptItemRet"] = rows
        for key, _ in TENDER_KINDS:
            if key + "Add" in f:
                rec[key + "Ret"] = [dict(t) for t in f[key + "Add"]]
        st["receipts"][rec["TxnID"]] = rec
        return rec

    # ------------------------------------------------------------------ queries and iterators
    def _query(self, rq, rs, macros, table, rq_name):
        """Generic *QueryRq: filters from the DTD, MaxReturned, iterators, metaData (§2.1, §11.5)."""
        node = self.spec.requests[rq_name]
        self._check_values(rq, node, macros)
        iterator = rq.get("iterator")
        st = self.state
        if iterator in ("Continue", "Stop"):
            iid = rq.get("iteratorID")
            it = st["iterators"].get(iid or "")
            if it is None or it["request"] != rq_name:
                raise not_found(iid or "iteratorID")
            if iterator == "Stop":
                del st["iterators"][iid]
                rs["attrs"].update({"iteratorID": iid, "iteratorRemainingCount": "0", "retCount": "0"})
                return
            filt = ET.fromstring(it["filters"])
            max_el = rq.find("MaxReturned")
            limit = int(max_el.text) if max_el is not None else it["max"]
            cursor = tuple(it["cursor"]) if it["cursor"] else None
        else:
            filt = rq
            max_el = rq.find("MaxReturned")
            limit = int(max_el.text) if max_el is not None else None
            cursor = None
        matches = self._match(filt, node, st[table], table, macros)
        matches.sort(key=self._order_key)
        if cursor is not None:
            matches = [r for r in matches if self._order_key(r) > cursor]
        page = matches if limit is None else matches[:limit]
        remaining = len(matches) - len(page)
        owners = [o.text.strip() for o in filt.findall("OwnerID") if o.text]
        include = [e.text.strip() for e in filt.findall("IncludeRetElement") if e.text]
        meta_only = rq.get("metaData") == "MetaDataOnly"
        if iterator in ("Start", "Continue"):
            iid = rq.get("iteratorID") if iterator == "Continue" else "{%s}" % str(uuid.uuid4()).upper()
            if iterator == "Start":
                st["iterators"][iid] = {"request": rq_name, "filters": ET.tostring(rq, encoding="unicode"),
                                        "max": limit, "cursor": None, "created": self.now()}
            if page:
                st["iterators"][iid]["cursor"] = list(self._order_key(page[-1]))
            if remaining == 0:
                st["iterators"].pop(iid, None)
            rs["attrs"]["iteratorID"] = iid
            rs["attrs"]["iteratorRemainingCount"] = str(remaining)
        rs["attrs"]["retCount"] = str(len(page))
        if not page and iterator != "Continue":
            rs["code"], rs["message"], rs["severity"] = 1, MSG_NO_MATCH, "Info"
        if not meta_only:
            rs["rets"] = [self._select(r, None, include, owners) for r in page]

    @staticmethod
    def _order_key(rec):
        tm = rec.get("TimeModified") or rec.get("TimeCreated") or ""
        try:
            t = _dt.datetime.fromisoformat(tm).timestamp()
        except ValueError:
            t = 0.0
        ident = rec.get("ListID") or rec.get("TxnID") or "0"
        return (t, int(ident))

    def _match(self, filt, node, table, table_name, macros):
        ret = {"items": ("ItemInventoryQueryRs", "ItemInventoryRet"),
               "departments": ("DepartmentQueryRs", "DepartmentRet"),
               "customers": ("CustomerQueryRs", "CustomerRet"),
               "receipts": ("SalesReceiptQueryRs", "SalesReceiptRet")}[table_name]
        ret_node = self.spec.ret_node(*ret)
        tests = []
        for el in filt:
            tag = el.tag
            if tag in ("MaxReturned", "OwnerID", "IncludeRetElement"):
                continue
            if tag.endswith("RangeFilter"):
                field = tag[: -len("RangeFilter")]
                lo = el.find("From" + field)
                hi = el.find("To" + field)
                tests.append(self._range_test(field, ret_node, lo.text if lo is not None else None,
                                              hi.text if hi is not None else None))
            elif tag.endswith("Filter") and el.find("MatchNumericCriterion") is not None:
                field = tag[: -len("Filter")]
                tests.append(self._num_test(field, ret_node, el.find("MatchNumericCriterion").text.strip(),
                                            el.find(field).text))
            elif tag.endswith("Filter") and el.find("MatchStringCriterion") is not None:
                field = tag[: -len("Filter")]
                tests.append(self._str_test(field, el.find("MatchStringCriterion").text.strip(), el.find(field).text))
            else:
                value = el.get("useMacro")
                value = macros.get(value, value) if value else (el.text or "").strip()
                tests.append(self._eq_test(tag, value))
        return [r for r in table.values() if all(t(r) for t in tests)]

    def _value_of(self, field, node, rec):
        v = rec.get(field)
        if v is None or isinstance(v, (dict, list)):
            return None
        t = node.child(field).type if node is not None and node.child(field) is not None else "STRTYPE"
        try:
            if t == "DATETIMETYPE":
                return parse_datetime(v, self.zone)
            if t == "DATETYPE":
                return _dt.date.fromisoformat(v).toordinal()
            if t in NUMERIC_TYPES:
                return dec(v)
        except (ValueError, InvalidOperation):
            return None
        return v

    def _convert(self, field, node, text):
        t = node.child(field).type if node is not None and node.child(field) is not None else "STRTYPE"
        if text is None:
            return None
        if t == "DATETIMETYPE":
            return parse_datetime(text, self.zone)
        if t == "DATETYPE":
            return _dt.date.fromisoformat(text.strip()[:10]).toordinal()
        if t in NUMERIC_TYPES:
            return dec(text)
        return text.strip().lower()

    def _num_test(self, field, node, crit, text):
        want = self._convert(field, node, text)
        ops = {"LessThan": lambda a: a < want, "LessThanEqual": lambda a: a <= want, "Equal": lambda a: a == want,
               "GreaterThan": lambda a: a > want, "GreaterThanEqual": lambda a: a >= want}
        op = ops[crit]

        def test(rec):
            v = self._value_of(field, node, rec)
            return v is not None and op(v)
        return test

    def _range_test(self, field, node, lo, hi):
        lo_v = self._convert(field, node, lo)
        hi_v = self._convert(field, node, hi)

        def test(rec):
            v = self._value_of(field, node, rec)
            if v is None:
                return False
            if isinstance(v, str):
                v = v.lower()
            return (lo_v is None or v >= lo_v) and (hi_v is None or v <= hi_v)
        return test

    @staticmethod
    def _str_test(field, crit, text):
        want = (text or "").strip().lower()   # QBPOS string matching is case-insensitive (inference)
        ops = {"Equal": lambda a: a == want, "StartsWith": lambda a: a.startswith(want),
               "Contains": lambda a: want in a, "EndsWith": lambda a: a.endswith(want)}
        op = ops[crit]

        def test(rec):
            v = rec.get(field)
            return isinstance(v, str) and op(v.lower())
        return test

    @staticmethod
    def _eq_test(field, value):
        def test(rec):
            v = rec.get(field)
            return isinstance(v, str) and v.lower() == value.lower()
        return test

    def _select(self, rec, rq, include=None, owners=None):
        """What a Ret shows: IncludeRetElement limits it; DataExtRet only for the OwnerIDs asked (§13)."""
        if rq is not None:
            include = [e.text.strip() for e in rq.findall("IncludeRetElement") if e.text]
        out = copy.deepcopy(rec)
        ext = out.pop("DataExtRet", None)
        if ext and owners:
            keep = [d for d in ext if d.get("OwnerID", "").lower() in {o.lower() for o in owners} or "0" in owners]
            if keep:
                out["DataExtRet"] = keep
        if include:
            out = {k: v for k, v in out.items() if k in include}
        return out

    # ------------------------------------------------------------------ writing
    def render(self, responses):
        lines = ['<?xml version="1.0" encoding="windows-1252"?>', "<QBPOSXML>", "  <QBPOSXMLMsgsRs>"]
        for rs in responses:
            attrs = dict(rs["attrs"])
            attrs["statusCode"] = str(rs["code"])
            attrs["statusSeverity"] = rs["severity"]
            attrs["statusMessage"] = rs["message"]
            attr_text = " ".join('%s="%s"' % (k, _esc_attr(attrs[k])) for k in sorted(attrs))
            if not rs["rets"]:
                lines.append("    <%s %s />" % (rs["name"], attr_text))
                continue
            lines.append("    <%s %s>" % (rs["name"], attr_text))
            for rec in rs["rets"]:
                self._write_agg(lines, rs["ret_node"].name, rec, rs["ret_node"], 3, top=True)
            lines.append("    </%s>" % rs["name"])
        lines.append("  </QBPOSXMLMsgsRs>")
        lines.append("</QBPOSXML>")
        text = "\r\n".join(lines) + "\r\n"
        return text.encode("cp1252", errors="xmlcharrefreplace")

    def _write_agg(self, lines, name, rec, node, depth, top=False):
        pad = "  " * depth
        lines.append("%s<%s>" % (pad, name))
        schema = [c.name for c in node.children()] if node is not None else []
        scalars = [k for k, v in rec.items() if not isinstance(v, (dict, list))]
        aggs = [k for k, v in rec.items() if isinstance(v, (dict, list))]
        first = [k for k in TIME_FIRST if k in scalars] if top else []
        rest = sorted((k for k in scalars if k not in first), key=sort_key_ci)
        for k in first + rest:
            v = rec[k]
            if v is None or v == "":
                continue   # empty fields are left out entirely (§3.3)
            lines.append("%s  <%s>%s</%s>" % (pad, k, _esc_text(v), k))
        aggs.sort(key=lambda k: (schema.index(k) if k in schema else len(schema), k))
        for k in aggs:
            v = rec[k]
            sub = node.child(k) if node is not None else None
            for one in (v if isinstance(v, list) else [v]):
                if one:
                    self._write_agg(lines, k, one, sub, depth + 1)
        lines.append("%s</%s>" % (pad, name))

    # ------------------------------------------------------------------ seeding
    def seed_sample_xml(self, data):
        """Load ItemInventoryRet records from a real-shaped ItemInventoryQueryRs document (any declared
        encoding). The same ListID twice keeps the later TimeModified (samples/qbpos/README.md)."""
        root = ET.fromstring(data)
        node = self.spec.ret_node("ItemInventoryQueryRs", "ItemInventoryRet")
        n = 0
        for el in root.iter("ItemInventoryRet"):
            rec = _element_to_record(el, node)
            lid = rec.get("ListID")
            if not lid:
                continue
            old = self.state["items"].get(lid)
            if old and self._order_key(old)[0] > self._order_key(rec)[0]:
                continue
            self.state["items"][lid] = rec
            n += 1
            dep_id = rec.get("DepartmentListID")
            if dep_id and dep_id not in self.state["departments"]:
                self.add_department({"DepartmentCode": rec.get("DepartmentCode", ""),
                                     "DepartmentName": rec.get("DepartmentCode", ""),
                                     "TaxCode": rec.get("TaxCode", "Tax")}, list_id=dep_id)
            ven_id = rec.get("VendorListID")
            if ven_id and ven_id not in self.state["vendors"]:
                self.state["vendors"][ven_id] = {"ListID": ven_id, "VendorCode": rec.get("VendorCode", "")}
            try:
                self.state["counters"]["itemNumber"] = max(self.state["counters"]["itemNumber"],
                                                           int(rec.get("ItemNumber", 0)))
            except ValueError:
                pass
            stores = [int(k[-2:]) for k in rec if re.match(r"^OnHandStore\d\d$", k)]
            if stores and max(stores) > self.stores():
                self.state["company"]["stores"] = max(stores)
        return n

    def seed_json(self, data):
        """{"reset", "company", "departments", "vendors", "items", "customers", "samples": [paths]}."""
        created = {"departments": [], "items": [], "customers": []}
        if data.get("reset"):
            keep = self.state["company"]
            self.state.clear()
            self.state.update(new_state())
            self.state["company"].update(keep)
        comp = data.get("company") or {}
        for k in ("stores", "storeNumber", "timezone", "taxRates", "companyName"):
            if k in comp:
                self.state["company"][k] = comp[k]
        for path in data.get("samples") or []:
            with open(path, "rb") as fh:
                self.seed_sample_xml(fh.read())
        dnode = self.spec.requests["DepartmentAddRq"].child("DepartmentAdd")
        for d in data.get("departments") or []:
            f = _json_fields(d, dnode, self.zone, skip=("ListID",))
            rec = self.add_department(f, list_id=str(d["ListID"]) if d.get("ListID") else None)
            created["departments"].append({"ListID": rec["ListID"], "DepartmentCode": rec.get("DepartmentCode")})
        for v in data.get("vendors") or []:
            lid = str(v.get("ListID") or self.new_id())
            self.state["vendors"][lid] = {"ListID": lid, "VendorCode": v.get("VendorCode", ""),
                                          "CompanyName": v.get("CompanyName", "")}
        inode = self.spec.requests["ItemInventoryAddRq"].child("ItemInventoryAdd")
        for it in data.get("items") or []:
            it = dict(it)
            if "DepartmentCode" in it and "DepartmentListID" not in it:
                code = it.pop("DepartmentCode")
                dep = next((d for d in self.state["departments"].values()
                            if d.get("DepartmentCode", "").lower() == str(code).lower()), None)
                if dep is None:
                    dep = self.add_department({"DepartmentCode": str(code), "DepartmentName": str(code)})
                it["DepartmentListID"] = dep["ListID"]
            extra = {k: str(it.pop(k)) for k in ("ListID", "ItemNumber", "TimeModified", "TimeCreated") if k in it}
            f = _json_fields(it, inode, self.zone)
            f.update({k: v for k, v in extra.items() if k in ("ListID", "ItemNumber")})
            try:
                rec = self.add_item(f, keep_ids=True)
            except RqError as e:
                raise ValueError("seed item %r: %s" % (it, e.message))
            for k in ("TimeModified", "TimeCreated"):
                if k in extra:
                    rec[k] = format_datetime(parse_datetime(extra[k], self.zone), self.zone)
            created["items"].append({"ListID": rec["ListID"], "ItemNumber": rec["ItemNumber"],
                                     "ALU": rec.get("ALU")})
        cnode = self.spec.requests["CustomerAddRq"].child("CustomerAdd")
        for cu in data.get("customers") or []:
            rec = self.add_customer(_json_fields(cu, cnode, self.zone))
            created["customers"].append({"ListID": rec["ListID"], "EMail": rec.get("EMail")})
        return created


def _element_to_record(el, node):
    rec = {}
    for child in el:
        cnode = node.child(child.tag) if node is not None else None
        if len(child) or (cnode is not None and not cnode.is_leaf):
            sub = _element_to_record(child, cnode)
            if cnode is not None and cnode.max is None:
                rec.setdefault(child.tag, []).append(sub)
            else:
                rec[child.tag] = sub
        else:
            rec[child.tag] = child.text or ""
    return rec


def _json_fields(obj, node, zone, skip=()):
    out = {}
    for k, v in obj.items():
        if k in skip:
            continue
        cnode = node.child(k)
        if cnode is None:
            raise ValueError("seed: %s has no field %s" % (node.name, k))
        if cnode.is_leaf:
            if isinstance(v, bool):
                v = "true" if v else "false"
            try:
                out[k] = normalize(cnode, str(v), zone)
            except RqError as e:
                raise ValueError("seed: " + e.message)
        elif cnode.max is None:
            out[k] = [_json_fields(x, cnode, zone) for x in v]
        else:
            out[k] = _json_fields(v, cnode, zone)
    return out


def _esc_text(s):
    s = str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace("\r", "&#xD;").replace("\n", "&#xA;")


def _esc_attr(s):
    return _esc_text(s).replace('"', "&quot;")
