/*
 * The QuickBooks Web Connector service: posbridge as the SOAP web service QBWC polls
 * (QBWebConnectorSvc.wsdl, namespace http://developer.intuit.com/, SOAP 1.1 document/
 * literal), for QBType QBPOS.
 *
 * A session: authenticate checks [qbwc] user and password_hash and makes a ticket
 * (<home>/qbwc/sessions/<ticket>.json, expiring after ticket_lifetime).  Its queue is
 * (1) the request documents `emit` left in [run] outbox, (2) an ItemInventoryQueryRq run
 * with iterators for the items modified since the last complete export, (3) the request
 * documents listed in [qbwc] requests.  sendRequestXML hands out the next one,
 * receiveResponseXML files the answer (into [run] inbox, ingested at once; item chunks
 * into an export batch when the iteration completes) and returns the percentage done.
 *
 * Crash safety: state/qbwc/journal.jsonl records "outbox document sent" (with its
 * sha256) before it leaves and "answer received" once the answer is on disk.  A document
 * sent whose answer never came back is never sent again as it was: its batch is emitted
 * again, which turns the unanswered adds into queries (see receipts.h).  Every call takes
 * the home's lock (the one `run` takes), waiting at most [qbwc] lock_wait seconds.
 */
#ifndef PB_QBWC_H
#define PB_QBWC_H

#include <stddef.h>

#include "posbridge/buf.h"
#include "posbridge/config.h"

struct pb_error;

/* ---- SOAP 1.1 messages ---- */

#define PB_SOAP_MAX_PARAMS 8
#define PB_SOAP_MAX_BODY ((size_t)32 << 20) /* a request body larger than this is refused */

struct pb_soap_call {
    char *method;                        /* local name of the Body's element */
    int nparams;
    char *name[PB_SOAP_MAX_PARAMS];      /* its child elements, in order */
    char *value[PB_SOAP_MAX_PARAMS];     /* their text (entities decoded) */
};

/*
 * Parse a SOAP 1.1 request envelope.  The method element must be in the Intuit
 * namespace; its children are its parameters (text only).  A DTD, a SOAP 1.2 envelope,
 * markup inside a parameter, a repeated or more than PB_SOAP_MAX_PARAMS parameters, and
 * a body over PB_SOAP_MAX_BODY are refused.  -1 with err (PB_EDATA, line:column) on
 * anything else than a well-formed call; call is then empty.
 */
int pb_soap_parse(const char *data, size_t len, struct pb_soap_call *call, struct pb_error *err);
/* A parameter's value (borrowed), or NULL when the call does not have it. */
const char *pb_soap_param(const struct pb_soap_call *call, const char *name);
void pb_soap_call_release(struct pb_soap_call *call);

/* Append XML-escaped text; characters XML 1.0 does not allow are dropped. */
int pb_xml_escape(struct pb_buf *b, const char *s, size_t n);

/* <methodResponse><methodResult>value</methodResult></methodResponse> in an envelope. */
int pb_soap_reply_string(struct pb_buf *out, const char *method, const char *value);
int pb_soap_reply_int(struct pb_buf *out, const char *method, int value);
/* An ArrayOfString result (authenticate). */
int pb_soap_reply_strings(struct pb_buf *out, const char *method, const char *const *v, int n);
/* A soap:Fault; code is "Client", "Server" or "VersionMismatch". */
int pb_soap_fault(struct pb_buf *out, const char *code, const char *message);

/* ---- passwords ---- */

/* "pbkdf2-sha256$ITERATIONS$SALT$HASH" (hex) for a password; a new random salt.  The
 * result is malloc'd; NULL when out of memory or no random bytes. */
char *pb_qbwc_hash_password(const char *password, size_t len, unsigned long iterations);
/* 1 when password matches the stored hash, 0 when not, -1 when the hash is malformed.
 * The digests are compared in constant time. */
int pb_qbwc_check_password(const char *stored, const char *password, size_t len);
/* 0 when s has the form pb_qbwc_hash_password makes. */
int pb_qbwc_hash_valid(const char *s);

/* ---- the service ---- */

struct pb_qbwc_reply {
    int status;              /* HTTP status: 200, or 500 with a fault */
    struct pb_buf body;      /* the SOAP envelope */
};

/*
 * Answer one call.  remote names the caller in the log (REMOTE_ADDR) or is NULL.
 * Returns 0 with reply filled (a fault is a reply too); -1 only when not even a fault
 * could be built (out of memory).
 */
int pb_qbwc_handle(const struct pb_config *cfg, const struct pb_soap_call *call,
                   const char *remote, struct pb_qbwc_reply *reply);

/* The .qwc file for the Web Connector, from [qbwc].  -1 with err (PB_ECONFIG). */
int pb_qbwc_file(const struct pb_config *cfg, struct pb_buf *out, struct pb_error *err);

#endif
