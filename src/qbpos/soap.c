/*
 * SOAP 1.1 for the Web Connector: reading a call, writing an answer or a fault.  See
 * qbwc.h.
 *
 * The body comes from the network, so it is read with libxml2's streaming reader, no
 * network access, no DTD (the parse stops at a DOCTYPE before any entity can be used),
 * and a size cap; only the shape QBWC sends is accepted: Envelope, optional Header,
 * Body, one method element, text-only parameters.
 */
#include "posbridge/qbwc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/banned.h"

#define NS_SOAP11 "http://schemas.xmlsoap.org/soap/envelope/"
#define NS_SOAP12 "http://www.w3.org/2003/05/soap-envelope"
#define NS_INTUIT "http://developer.intuit.com/"

void
pb_soap_call_release(struct pb_soap_call *c)
{
    free(c->method);
    for (int i = 0; i < c->nparams; i++) {
        free(c->name[i]);
        free(c->value[i]);
    }
    memset(c, 0, sizeof(*c));
}

const char *
pb_soap_param(const struct pb_soap_call *c, const char *name)
{
    for (int i = 0; i < c->nparams; i++)
        if (!strcmp(c->name[i], name))
            return c->value[i];
    return NULL;
}

static int
nseq(xmlTextReaderPtr rd, const char *ns)
{
    const char *u = (const char *)xmlTextReaderConstNamespaceUri(rd);
    return u && !strcmp(u, ns);
}

static void
quiet(void *arg, xmlErrorPtr e)
{
    (void)arg, (void)e;
}

int
pb_soap_parse(const char *data, size_t len, struct pb_soap_call *c, struct pb_error *err)
{
    memset(c, 0, sizeof(*c));
    if (len > PB_SOAP_MAX_BODY)
        return pb_error_set(err, PB_EDATA, "the request is larger than %zu MiB",
                            PB_SOAP_MAX_BODY >> 20);
    if (!len)
        return pb_error_set(err, PB_EDATA, "the request is empty");
    /* Read as UTF-8 whatever it declares (QBWC sends UTF-8), so the bytes seen here are the
     * characters the parser sees: a DTD is refused before the parser meets it. */
    if (memchr(data, '\0', len))
        return pb_error_set(err, PB_EDATA, "the request is not UTF-8 text (a NUL byte)");
    static const char dt[] = "<!DOCTYPE";
    for (size_t i = 0, line = 1, col = 1; i + sizeof(dt) - 1 <= len; i++, col++) {
        if (data[i] == '\n')
            line++, col = 0;
        else if (data[i] == '<' && !memcmp(data + i, dt, sizeof(dt) - 1))
            return pb_error_at(err, PB_EDATA, NULL, (long)line, (long)col, -1, NULL,
                               "a DOCTYPE is not accepted");
    }
    xmlTextReaderPtr rd = xmlReaderForMemory(data, (int)len, "soap", "UTF-8", XML_PARSE_NONET);
    if (!rd)
        return pb_error_set(err, PB_EOS, "out of memory");
    xmlTextReaderSetStructuredErrorHandler(rd, quiet, NULL); /* reported below, with position */
    int r, rc = 0, saw_env = 0, saw_body = 0, in_body = 0, param = -1;
    const char *why = NULL;
    while ((r = xmlTextReaderRead(rd)) == 1) {
        int type = xmlTextReaderNodeType(rd), depth = xmlTextReaderDepth(rd);
        const char *name = (const char *)xmlTextReaderConstLocalName(rd);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            why = "a DOCTYPE is not accepted";
            break;
        }
        if (type == XML_READER_TYPE_END_ELEMENT) {
            if (depth == 1 && in_body)
                in_body = 0;
            if (depth == 3)
                param = -1;
            continue;
        }
        if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA) {
            if (depth == 4 && param >= 0)
                continue; /* read with the parameter */
            if (depth < 4) {
                why = "text where an element belongs";
                break;
            }
            continue;
        }
        if (type != XML_READER_TYPE_ELEMENT)
            continue;
        int empty = xmlTextReaderIsEmptyElement(rd);
        if (depth == 0) {
            if (strcmp(name, "Envelope")) {
                why = "not a SOAP envelope";
                break;
            }
            if (nseq(rd, NS_SOAP12)) {
                why = "SOAP 1.2 is not supported; send SOAP 1.1";
                break;
            }
            if (!nseq(rd, NS_SOAP11)) {
                why = "the Envelope is not in the SOAP 1.1 namespace";
                break;
            }
            saw_env = 1;
        } else if (depth == 1) {
            if (!nseq(rd, NS_SOAP11) || (strcmp(name, "Header") && strcmp(name, "Body"))) {
                why = "only Header and Body may be in the Envelope";
                break;
            }
            if (!strcmp(name, "Body")) {
                if (saw_body) {
                    why = "two Body elements";
                    break;
                }
                saw_body = 1;
                in_body = !empty;
            }
        } else if (depth == 2 && in_body) {
            if (c->method) {
                why = "more than one call in the Body";
                break;
            }
            if (!nseq(rd, NS_INTUIT)) {
                why = "the call is not in the namespace http://developer.intuit.com/";
                break;
            }
            if (!(c->method = strdup(name)))
                goto oom;
        } else if (depth == 3 && in_body) {
            const char *u = (const char *)xmlTextReaderConstNamespaceUri(rd);
            if (u && *u && strcmp(u, NS_INTUIT)) {
                why = "a parameter in a foreign namespace";
                break;
            }
            if (pb_soap_param(c, name)) {
                why = "a parameter given twice";
                break;
            }
            if (c->nparams == PB_SOAP_MAX_PARAMS) {
                why = "too many parameters";
                break;
            }
            param = c->nparams;
            c->name[param] = strdup(name);
            xmlChar *v = empty ? NULL : xmlTextReaderReadString(rd);
            c->value[param] = strdup(v ? (const char *)v : "");
            xmlFree(v);
            c->nparams++;
            if (!c->name[param] || !c->value[param])
                goto oom;
            if (empty)
                param = -1;
        } else if (depth >= 4 && in_body) {
            why = "markup inside a parameter (its text must be escaped)";
            break;
        }
    }
    if (why || r < 0) {
        long line = xmlTextReaderGetParserLineNumber(rd), col = xmlTextReaderGetParserColumnNumber(rd);
        rc = pb_error_at(err, PB_EDATA, NULL, line, col, -1, NULL, "%s",
                         why ? why : "not well-formed XML");
    } else if (!saw_env || !saw_body || !c->method) {
        rc = pb_error_set(err, PB_EDATA, "%s", !saw_env ? "not a SOAP envelope"
                                               : !saw_body ? "the envelope has no Body"
                                                           : "the Body holds no call");
    }
    xmlFreeTextReader(rd);
    if (rc < 0)
        pb_soap_call_release(c);
    return rc;
oom:
    xmlFreeTextReader(rd);
    pb_soap_call_release(c);
    return pb_error_set(err, PB_EOS, "out of memory");
}

/* One UTF-8 sequence at s (n bytes left): its length and code point, or 0 if invalid. */
static size_t
utf8(const unsigned char *s, size_t n, unsigned *cp)
{
    if (s[0] < 0x80)
        return *cp = s[0], 1;
    size_t k = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (!k || k > n)
        return 0;
    unsigned v = s[0] & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if ((k == 3 && v < 0x800) || (k == 4 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v < 0xe000))
        return 0;
    return *cp = v, k;
}

int
pb_xml_escape(struct pb_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned cp;
        size_t k = utf8(p + i, n - i, &cp);
        int rc = 0;
        if (!k) { /* not UTF-8: dropped, the answer must stay well-formed */
            i++;
            continue;
        }
        switch (cp) {
        case '&': rc = pb_buf_adds(b, "&amp;"); break;
        case '<': rc = pb_buf_adds(b, "&lt;"); break;
        case '>': rc = pb_buf_adds(b, "&gt;"); break;
        case '"': rc = pb_buf_adds(b, "&quot;"); break;
        case '\r': rc = pb_buf_adds(b, "&#13;"); break;
        default:
            if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xfffe || cp == 0xffff)
                break;
            rc = pb_buf_add(b, s + i, k);
        }
        if (rc < 0)
            return -1;
        i += k;
    }
    return 0;
}

static int
open_env(struct pb_buf *out)
{
    pb_buf_reset(out);
    return pb_buf_adds(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                            "<soap:Envelope xmlns:soap=\"" NS_SOAP11 "\" "
                            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                            "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><soap:Body>");
}

static int
close_env(struct pb_buf *out)
{
    return pb_buf_adds(out, "</soap:Body></soap:Envelope>\n");
}

static int
reply(struct pb_buf *out, const char *method, const char *const *v, int n, int array)
{
    if (open_env(out) < 0 ||
        pb_buf_addf(out, "<%sResponse xmlns=\"" NS_INTUIT "\"><%sResult>", method, method) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (array && pb_buf_adds(out, "<string>") < 0)
            return -1;
        if (v[i] && pb_xml_escape(out, v[i], strlen(v[i])) < 0)
            return -1;
        if (array && pb_buf_adds(out, "</string>") < 0)
            return -1;
    }
    if (pb_buf_addf(out, "</%sResult></%sResponse>", method, method) < 0)
        return -1;
    return close_env(out);
}

int
pb_soap_reply_string(struct pb_buf *out, const char *method, const char *value)
{
    return reply(out, method, &value, 1, 0);
}

int
pb_soap_reply_int(struct pb_buf *out, const char *method, int value)
{
    char num[16];
    const char *v = num;
    snprintf(num, sizeof(num), "%d", value);
    return reply(out, method, &v, 1, 0);
}

int
pb_soap_reply_strings(struct pb_buf *out, const char *method, const char *const *v, int n)
{
    return reply(out, method, v, n, 1);
}

int
pb_soap_fault(struct pb_buf *out, const char *code, const char *message)
{
    if (open_env(out) < 0 || pb_buf_addf(out, "<soap:Fault><faultcode>soap:%s</faultcode><faultstring>", code) < 0 ||
        pb_xml_escape(out, message, strlen(message)) < 0 ||
        pb_buf_adds(out, "</faultstring></soap:Fault>") < 0)
        return -1;
    return close_env(out);
}
