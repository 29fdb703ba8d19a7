/*
 * The Web Connector service: one SOAP call in, one answer out.  See qbwc.h.
 *
 * Files under the home:
 *   qbwc/sessions/<ticket>.json   one session: its queue, where it is, its last error
 *                                 (written atomically after every change, mode 0600)
 *   qbwc/items/<ticket>/NNNN.xml  the item chunks of an iteration still running
 *   qbwc/responses/               answers to the [qbwc] requests documents
 *   state/qbwc/journal.jsonl      "outbox document sent" / "answer received"
 *   state/qbwc/items.json         when the last complete item export started
 * Session files are private to their session (QBWC calls one at a time per ticket), so
 * they are written without the lock; everything shared (outbox, inbox, ledger, batches,
 * the journal) only under the home's lock.
 */
#include "posbridge/qbwc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "posbridge/atomic.h"
#include "posbridge/err.h"
#include "posbridge/export.h"
#include "posbridge/log.h"
#include "posbridge/receipts.h"
#include "posbridge/sha256.h"
#include "posbridge/state.h"
#include "posbridge/timefmt.h"
#include "posbridge/buf.h"
#include "posbridge/banned.h"

#define MAX_DOC ((size_t)64 << 20)  /* a request document we hand out */
#define SINCE_OVERLAP 600           /* seconds looked at again in an incremental export */

/* ---- passwords ---- */

static int
unhex(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + k];
            int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (x < 0)
                return -1;
            v = v * 16 + x;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

/* Split "pbkdf2-sha256$N$SALT$HASH": 0 with its parts, -1 when malformed. */
static int
hash_parts(const char *s, unsigned long *iter, unsigned char salt[16], unsigned char dk[32])
{
    static const char pre[] = "pbkdf2-sha256$";
    if (strncmp(s, pre, sizeof(pre) - 1))
        return -1;
    s += sizeof(pre) - 1;
    char *end;
    errno = 0;
    unsigned long n = strtoul(s, &end, 10);
    if (errno || end == s || *end != '$' || n < 1000 || n > 10000000 || *s == '0')
        return -1;
    s = end + 1;
    if (strlen(s) != 32 + 1 + 64 || s[32] != '$' || unhex(s, 16, salt) < 0 ||
        unhex(s + 33, 32, dk) < 0)
        return -1;
    *iter = n;
    return 0;
}

int
pb_qbwc_hash_valid(const char *s)
{
    unsigned long n;
    unsigned char salt[16], dk[32];
    return hash_parts(s, &n, salt, dk);
}

char *
pb_qbwc_hash_password(const char *pw, size_t len, unsigned long iterations)
{
    unsigned char salt[16], dk[32];
    char sh[33], dh[65];
    struct pb_buf b = PB_BUF_INIT;
    if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
        return NULL;
    pb_pbkdf2_sha256(pw, len, salt, sizeof(salt), iterations, dk, sizeof(dk));
    pb_hex(salt, sizeof(salt), sh);
    pb_hex(dk, sizeof(dk), dh);
    memset(dk, 0, sizeof(dk));
    if (pb_buf_addf(&b, "pbkdf2-sha256$%lu$%s$%s", iterations, sh, dh) < 0)
        return NULL;
    return pb_buf_detach(&b, NULL);
}

int
pb_qbwc_check_password(const char *stored, const char *pw, size_t len)
{
    unsigned long n;
    unsigned char salt[16], want[32], got[32];
    if (hash_parts(stored, &n, salt, want) < 0)
        return -1;
    pb_pbkdf2_sha256(pw, len, salt, sizeof(salt), n, got, sizeof(got));
    int ok = pb_const_equal(want, got, sizeof(got));
    memset(got, 0, sizeof(got));
    return ok;
}

/* ---- small helpers ---- */

struct svc {
    const struct pb_config *cfg;
    const char *remote;
    int lockfd;
    char ticket[33];
    char *sess_path;
    json_t *sess;             /* the session, or NULL */
    struct pb_journal journal;
    int journal_open;
};


static char *
home_path(const struct svc *s, const char *sub)
{
    return pb_config_path(s->cfg, sub);
}

static int
read_all(const char *path, size_t max, struct pb_buf *out)
{
    FILE *fp = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    pb_buf_reset(out);
    if (!fp)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (out->len + n > max || pb_buf_add(out, chunk, n) < 0) {
            fclose(fp);
            return -1;
        }
    int bad = ferror(fp);
    fclose(fp);
    return bad ? -1 : 0;
}

static void
sha_hex(const char *data, size_t len, char out[65])
{
    struct pb_sha256 s;
    pb_sha256_init(&s);
    pb_sha256_update(&s, data, len);
    pb_sha256_hex(&s, out);
}

/*
 * Which outbox document this is: its content and the file that holds it (inode and
 * modification time).  `emit` may write the same bytes again on another night (a receipt
 * QBPOS refused, sent again): a new file, so a new document, though the content is not.
 */
#define DOC_ID 128
static void
doc_id(const char *path, const struct pb_buf *doc, char out[DOC_ID])
{
    char sha[65];
    struct stat st;
    sha_hex(doc->data, doc->len, sha);
    if (stat(path, &st) < 0)
        memset(&st, 0, sizeof(st));
    snprintf(out, DOC_ID, "%s:%llu:%lld.%09ld", sha, (unsigned long long)st.st_ino,
             (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static int
file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Move dir/name into dir/sub/name (sub made when missing); best effort, logged. */
static void
move_into(const char *dir, const char *name, const char *sub)
{
    char *from = pb_path_join(dir, name), *to_dir = pb_path_join(dir, sub);
    char *to = to_dir ? pb_path_join(to_dir, name) : NULL;
    struct pb_error err;
    pb_error_init(&err);
    if (from && to && pb_mkdirs(to_dir, 0755, &err) == 0 && rename(from, to) < 0 && errno != ENOENT)
        pb_log(PB_LOG_WARN, "qbwc: cannot move %s to %s: %s", from, to, strerror(errno));
    free(from);
    free(to_dir);
    free(to);
}

/* Printable, short: what a caller sent, fit for a log line. */
static void
clean(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; in && *in && k + 1 < n; in++)
        out[k++] = (unsigned char)*in >= 0x20 && (unsigned char)*in < 0x7f ? *in : '?';
    out[k] = '\0';
}

/* ---- the lock ---- */

/* 0 locked, 1 busy (another run or call holds it past lock_wait), -1 error. */
static int
take_lock(struct svc *s)
{
    char *path = home_path(s, "lock");
    struct pb_error err;
    pb_error_init(&err);
    if (!path || pb_mkdirs(s->cfg->home, 0755, &err) < 0) {
        free(path);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(path);
    if (fd < 0)
        return -1;
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited++) {
        if (waited >= s->cfg->qbwc_lock_wait * 10) {
            close(fd);
            return 1;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    char me[128], t[32];
    pb_time_format((int64_t)time(NULL), t);
    int k = snprintf(me, sizeof(me), "pid %ld, qbwc, started %s\n", (long)getpid(), t);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, me, (size_t)k, 0) != k)
        pb_log(PB_LOG_WARN, "qbwc: cannot write the lock file: %s", strerror(errno));
    s->lockfd = fd;
    return 0;
}

static void
drop_lock(struct svc *s)
{
    if (s->lockfd < 0)
        return;
    if (ftruncate(s->lockfd, 0) < 0)
        pb_log(PB_LOG_WARN, "qbwc: cannot clear the lock file: %s", strerror(errno));
    flock(s->lockfd, LOCK_UN);
    close(s->lockfd);
    s->lockfd = -1;
}

static int
journal(struct svc *s, struct pb_error *err)
{
    if (s->journal_open)
        return 0;
    char *dir = home_path(s, "state/qbwc");
    char *p = dir ? pb_path_join(dir, "journal.jsonl") : NULL;
    int rc = !p ? pb_error_set(err, PB_EOS, "out of memory")
                : pb_mkdirs(dir, 0700, err) < 0 ? -1 : pb_journal_open(&s->journal, p, err);
    free(dir);
    free(p);
    if (rc == 0)
        s->journal_open = 1;
    return rc;
}

/* ---- sessions ---- */

static int
valid_ticket(const char *t)
{
    if (!t || strlen(t) != 32)
        return 0;
    for (const char *p = t; *p; p++)
        if (!strchr("0123456789abcdef", *p))
            return 0;
    return 1;
}

static int
new_ticket(char out[33])
{
    unsigned char r[16];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return -1;
    pb_hex(r, sizeof(r), out);
    return 0;
}

static char *
session_file(const struct svc *s, const char *ticket)
{
    struct pb_buf b = PB_BUF_INIT;
    if (pb_buf_addf(&b, "%s/qbwc/sessions/%s.json", s->cfg->home, ticket) < 0)
        return NULL;
    return pb_buf_detach(&b, NULL);
}

static char *
chunk_dir(const struct svc *s)
{
    struct pb_buf b = PB_BUF_INIT;
    if (pb_buf_addf(&b, "%s/qbwc/items/%s", s->cfg->home, s->ticket) < 0)
        return NULL;
    return pb_buf_detach(&b, NULL);
}

/* Load the session of a ticket: 0, or -1 when unknown or expired (*why says which). */
static int
session_load(struct svc *s, const char *ticket, const char **why)
{
    *why = "unknown ticket (the session ended or never began); the Web Connector starts a new "
           "one next time";
    if (!valid_ticket(ticket))
        return -1;
    snprintf(s->ticket, sizeof(s->ticket), "%s", ticket);
    if (!(s->sess_path = session_file(s, ticket)))
        return -1;
    json_error_t je;
    s->sess = json_load_file(s->sess_path, JSON_REJECT_DUPLICATES, &je);
    if (!s->sess || !json_is_object(s->sess)) {
        json_decref(s->sess);
        s->sess = NULL;
        return -1;
    }
    if (json_integer_value(json_object_get(s->sess, "expires")) < (json_int_t)time(NULL)) {
        *why = "the session expired; the Web Connector starts a new one next time";
        return -1;
    }
    return 0;
}

static int
session_save(struct svc *s, struct pb_error *err)
{
    char *text = json_dumps(s->sess, JSON_INDENT(1) | JSON_SORT_KEYS);
    char *dir = home_path(s, "qbwc/sessions");
    struct pb_atomic af;
    int rc = -1;
    if (!text || !dir) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    if (pb_mkdirs(dir, 0700, err) < 0 || pb_atomic_open(s->sess_path, 0600, &af, err) < 0)
        goto out;
    if (fputs(text, af.fp) == EOF) {
        pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", s->sess_path);
        pb_atomic_abort(&af);
        goto out;
    }
    rc = pb_atomic_commit(&af, err);
out:
    free(text);
    free(dir);
    return rc;
}

static const char *
sget(const struct svc *s, const char *key)
{
    return json_string_value(json_object_get(s->sess, key));
}

static json_int_t
iget(const struct svc *s, const char *key)
{
    return json_integer_value(json_object_get(s->sess, key));
}

static void
iset(struct svc *s, const char *key, json_int_t v)
{
    json_object_set_new(s->sess, key, json_integer(v));
}

static void
sset(struct svc *s, const char *key, const char *v)
{
    json_object_set_new(s->sess, key, v ? json_string(v) : json_null());
}

static void
set_error(struct svc *s, const char *msg)
{
    if (s->sess) {
        sset(s, "last_error", msg);
        iset(s, "errors", iget(s, "errors") + 1);
    }
    pb_log(PB_LOG_WARN, "qbwc: %s", msg);
}

/* Sessions past their expiry go, with any item chunks they left. */
static void
sweep_sessions(struct svc *s)
{
    char *dir = home_path(s, "qbwc/sessions");
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n != 37 || strcmp(de->d_name + 32, ".json"))
            continue;
        char *p = pb_path_join(dir, de->d_name);
        json_error_t je;
        json_t *j = p ? json_load_file(p, 0, &je) : NULL;
        json_int_t exp = json_integer_value(json_object_get(j, "expires"));
        if (p && (!j || exp < (json_int_t)time(NULL))) {
            struct pb_buf c = PB_BUF_INIT;
            if (pb_buf_addf(&c, "%s/qbwc/items/%.32s", s->cfg->home, de->d_name) == 0)
                pb_rmtree(c.data);
            pb_buf_release(&c);
            unlink(p);
        }
        json_decref(j);
        free(p);
    }
    if (d)
        closedir(d);
    free(dir);
}

/* ---- the outbox ---- */


/* *.xml files in dir, sorted, in a JSON array of names. */
static json_t *
list_xml(const char *dir)
{
    json_t *v = json_array();
    char **names = dir ? pb_dir_list(dir, 0, ".xml", NULL) : NULL;
    for (size_t i = 0; names && names[i]; i++)
        json_array_append_new(v, json_string(names[i]));
    pb_dir_list_free(names);
    return v;
}

/* The batch an outbox or inbox file belongs to: batches/<name up to the first dot>. */
static char *
batch_of(const struct svc *s, const char *name)
{
    const char *dot = strchr(name, '.');
    struct pb_buf b = PB_BUF_INIT;
    if (pb_buf_addf(&b, "%s/batches/%.*s", s->cfg->home, (int)(dot ? dot - name : (long)strlen(name)),
                    name) < 0)
        return NULL;
    char *p = pb_buf_detach(&b, NULL);
    struct stat st;
    if (p && (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))) {
        free(p);
        return NULL;
    }
    return p;
}

/*
 * An outbox document went out and its answer never came back: QBPOS may have done all,
 * part or none of it.  Emit its batch again, which asks QBPOS about every add whose
 * answer is missing instead of adding it again.  0, or -1 when the document had to be put
 * aside (no batch to emit it from).
 */
static int
reemit(struct svc *s, const char *name)
{
    const char *outbox = s->cfg->run_outbox;
    char *batch = batch_of(s, name), *path = pb_path_join(outbox, name);
    int rc = 0;
    if (!batch || !path) {
        pb_log(PB_LOG_WARN,
               "qbwc: %s/%s went to QBPOS and no answer came back, and it belongs to no batch: "
               "moved to %s/held/ for a person to check (sending it again could add twice)",
               outbox, name, outbox);
        move_into(outbox, name, "held");
        rc = -1;
        goto out;
    }
    struct pb_emit_opts o = {batch, path};
    struct pb_emit_result res;
    struct pb_error err;
    pb_error_init(&err);
    if (pb_emit_run(s->cfg, &o, &res, &err) < 0) {
        char msg[600];
        pb_error_format(&err, msg, sizeof(msg));
        pb_log(PB_LOG_WARN, "qbwc: %s: emitting again failed (%s): moved to %s/held/", name, msg,
               outbox);
        move_into(outbox, name, "held");
        rc = -1;
    } else if (!res.written) {
        pb_log(PB_LOG_INFO, "qbwc: %s: nothing left to ask QBPOS", name);
        move_into(outbox, name, "sent");
        rc = -1;
    } else {
        pb_log(PB_LOG_INFO,
               "qbwc: %s went out and its answer never came back: emitted again as %llu checks "
               "(and %llu adds not sent before)",
               name, (unsigned long long)res.checks, (unsigned long long)res.receipts);
    }
out:
    free(batch);
    free(path);
    return rc;
}

/* What the journal says of an outbox document with this content: 0 never sent, 1 sent and
 * unanswered, 2 answered. */
static int
outbox_state(struct svc *s, const char *name, const char *id)
{
    struct pb_buf key = PB_BUF_INIT;
    if (pb_buf_addf(&key, "outbox:%s", name) < 0)
        return 0;
    json_t *last = pb_journal_last(&s->journal, key.data);
    pb_buf_release(&key);
    const char *was = json_string_value(json_object_get(last, "doc"));
    if (!last || !was || strcmp(was, id))
        return 0;
    return !strcmp(json_string_value(json_object_get(last, "kind")), "intent") ? 1 : 2;
}

/* ---- answers left in the inbox ---- */

/* Record one answer document of an outbox batch: ingest it, file it under done/ or
 * rejected/.  Returns the number of requests QBPOS refused, or -1 when it could not be read. */
static long
ingest_file(struct svc *s, const char *inbox, const char *name, const char *batch)
{
    char *file = pb_path_join(inbox, name);
    struct pb_ingest_result res;
    struct pb_error err;
    long rc;
    pb_error_init(&err);
    if (!file)
        return -1;
    if (pb_ingest_run(s->cfg, batch, &file, 1, &res, &err) < 0) {
        char msg[600], line[800];
        pb_error_format(&err, msg, sizeof(msg));
        snprintf(line, sizeof(line), "QBPOS's answer %s could not be recorded: %s (moved to rejected/)",
                 name, msg);
        set_error(s, line);
        move_into(inbox, name, "rejected");
        rc = -1;
    } else {
        pb_log(PB_LOG_INFO,
               "qbwc: %s: %llu receipts confirmed, %llu customers added, %llu refused by QBPOS, "
               "%llu not found",
               name, (unsigned long long)res.confirmed, (unsigned long long)res.customers,
               (unsigned long long)res.failed, (unsigned long long)res.absent);
        move_into(inbox, name, "done");
        rc = (long)res.failed;
    }
    free(file);
    return rc;
}

static void
ingest_leftovers(struct svc *s)
{
    const char *inbox = s->cfg->run_inbox;
    json_t *names = inbox ? list_xml(inbox) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        char *batch = batch_of(s, json_string_value(v));
        if (batch)
            ingest_file(s, inbox, json_string_value(v), batch);
        free(batch);
    }
    json_decref(names);
}

/* ---- the answers ---- */

static json_t *
queue_item(const struct svc *s)
{
    json_t *q = json_object_get(s->sess, "queue");
    json_int_t pos = iget(s, "pos");
    return pos < (json_int_t)json_array_size(q) ? json_array_get(q, (size_t)pos) : NULL;
}

static const char *
kind_of(json_t *item)
{
    return json_string_value(json_object_get(item, "kind"));
}

/* The honest share done: finished documents, plus the part of the item iteration done. */
static int
percent(const struct svc *s)
{
    json_int_t n = (json_int_t)json_array_size(json_object_get(s->sess, "queue"));
    json_int_t pos = iget(s, "pos");
    if (pos >= n)
        return 100;
    json_int_t num = 0, den = 1;
    json_t *it = queue_item(s);
    if (!strcmp(kind_of(it), "items") && iget(s, "chunks") > 0) {
        json_int_t per = s->cfg->qbwc_max_returned;
        json_int_t left = (iget(s, "remaining") + per - 1) / per;
        num = iget(s, "chunks");
        den = num + left;
    }
    json_int_t p = 100 * (pos * den + num) / (n * den);
    return p > 99 ? 99 : (int)p;
}

static void
next_item(struct svc *s)
{
    iset(s, "pos", iget(s, "pos") + 1);
    iset(s, "sent", 0);
}

static void
drop_iteration(struct svc *s)
{
    char *dir = chunk_dir(s);
    if (dir)
        pb_rmtree(dir);
    free(dir);
    sset(s, "iterator_id", NULL);
    iset(s, "chunks", 0);
    iset(s, "remaining", 0);
    iset(s, "items", 0);
}

static int
send_outbox(struct svc *s, json_t *item, struct pb_buf *doc, struct pb_error *err)
{
    const char *name = json_string_value(json_object_get(item, "name"));
    const char *outbox = s->cfg->run_outbox;
    char *path = pb_path_join(outbox, name);
    char sha[DOC_ID];
    int rc = 0;
    if (!path)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (read_all(path, MAX_DOC, doc) < 0) {
        pb_log(PB_LOG_INFO, "qbwc: %s is no longer in the outbox; going on", name);
        goto out; /* rc 0, doc empty: the caller goes on */
    }
    doc_id(path, doc, sha);
    int st = outbox_state(s, name, sha);
    if (st == 2) {
        move_into(outbox, name, "sent");
        pb_buf_reset(doc);
        goto out;
    }
    if (st == 1) {
        /* sent before, unanswered: never the same adds again.  What emit writes then
         * holds queries for those, so it may go out whatever the journal says of it. */
        if (reemit(s, name) < 0 || read_all(path, MAX_DOC, doc) < 0) {
            pb_buf_reset(doc);
            goto out;
        }
        doc_id(path, doc, sha);
    }
    struct pb_buf key = PB_BUF_INIT;
    if (pb_buf_addf(&key, "outbox:%s", name) < 0) {
        rc = pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    /* durable before the document leaves */
    if (!pb_journal_intent(&s->journal, "qbwc-send", key.data,
                           json_pack("{s:s}", "doc", sha), err) ||
        pb_journal_sync(&s->journal, err) < 0)
        rc = -1;
    pb_buf_release(&key);
    json_object_set_new(item, "doc", json_string(sha));
out:
    free(path);
    return rc;
}

static int
items_query(struct svc *s, struct pb_buf *doc)
{
    const char *iid = sget(s, "iterator_id");
    const char *since = sget(s, "since");
    int rc = pb_buf_addf(doc, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<?qbposxml version=\"3.0\"?>\n"
                              "<QBPOSXML>\n  <QBPOSXMLMsgsRq onError=\"stopOnError\">\n"
                              "    <ItemInventoryQueryRq requestID=\"items-%lld\" iterator=\"%s\"",
                         (long long)iget(s, "chunks") + 1, iid ? "Continue" : "Start");
    if (!rc && iid)
        rc = pb_buf_adds(doc, " iteratorID=\"") || pb_xml_escape(doc, iid, strlen(iid)) ||
             pb_buf_adds(doc, "\"");
    if (!rc)
        rc = pb_buf_addf(doc, ">\n      <MaxReturned>%d</MaxReturned>\n", s->cfg->qbwc_max_returned);
    if (!rc && since)
        rc = pb_buf_addf(doc, "      <TimeModifiedFilter>\n        <MatchNumericCriterion>"
                              "GreaterThanEqual</MatchNumericCriterion>\n        <TimeModified>%s"
                              "</TimeModified>\n      </TimeModifiedFilter>\n",
                         since);
    if (!rc)
        rc = pb_buf_adds(doc, "    </ItemInventoryQueryRq>\n  </QBPOSXMLMsgsRq>\n</QBPOSXML>\n");
    return rc ? -1 : 0;
}

/* When the last complete export started, as QBPOS wants it ("...+00:00"), or NULL. */
static char *
items_since(struct svc *s)
{
    if (s->cfg->qbwc_items != 1)
        return NULL;
    char *p = home_path(s, "state/qbwc/items.json");
    json_error_t je;
    json_t *j = p ? json_load_file(p, 0, &je) : NULL;
    json_int_t t = json_integer_value(json_object_get(j, "last_complete_start"));
    char *out = NULL;
    free(p);
    json_decref(j);
    if (t > 0) {
        char ts[32];
        pb_time_format((int64_t)t - SINCE_OVERLAP, ts);
        size_t n = strlen(ts);
        struct pb_buf b = PB_BUF_INIT;
        if (n && ts[n - 1] == 'Z' && pb_buf_addf(&b, "%.*s+00:00", (int)(n - 1), ts) == 0)
            out = pb_buf_detach(&b, NULL);
    }
    return out;
}

static int
on_sendRequestXML(struct svc *s, const struct pb_soap_call *c, struct pb_buf *out)
{
    struct pb_buf doc = PB_BUF_INIT;
    struct pb_error err;
    int rc;
    pb_error_init(&err);
    const char *ver = pb_soap_param(c, "qbXMLMajorVers");
    if (ver && atol(ver) > 0 && atol(ver) < 3)
        pb_log(PB_LOG_WARN, "qbwc: the POS request processor speaks qbposXML %s; posbridge "
                            "writes 3.0 (QBPOS 2013 and later)", ver);
    while (queue_item(s)) {
        json_t *item = queue_item(s);
        const char *kind = kind_of(item);
        pb_buf_reset(&doc);
        if (!strcmp(kind, "outbox")) {
            if (send_outbox(s, item, &doc, &err) < 0)
                goto fail;
            if (!doc.len) {
                next_item(s);
                continue;
            }
        } else if (!strcmp(kind, "items")) {
            if (iget(s, "sent")) { /* asked again without an answer: start over */
                pb_log(PB_LOG_INFO, "qbwc: the item query is asked for again; starting it over");
                drop_iteration(s);
            }
            if (!sget(s, "iterator_id")) {
                char *since = items_since(s);
                sset(s, "since", since);
                iset(s, "iter_started", (json_int_t)time(NULL));
                free(since);
            }
            if (items_query(s, &doc) < 0)
                goto oom;
        } else {
            const char *p = json_string_value(json_object_get(item, "path"));
            if (read_all(p, MAX_DOC, &doc) < 0 || !doc.len) {
                char line[600];
                snprintf(line, sizeof(line), "cannot read the request document '%s'; skipped", p);
                set_error(s, line);
                next_item(s);
                continue;
            }
        }
        iset(s, "sent", 1);
        iset(s, "requests", iget(s, "requests") + 1);
        if (session_save(s, &err) < 0)
            goto fail;
        rc = pb_soap_reply_string(out, "sendRequestXML", doc.data);
        pb_buf_release(&doc);
        return rc;
    }
    /* nothing (left) to send: QBWC then asks getLastError */
    if (!sget(s, "last_error"))
        sset(s, "last_error", "posbridge has nothing more to send in this session");
    if (session_save(s, &err) < 0)
        goto fail;
    pb_buf_release(&doc);
    return pb_soap_reply_string(out, "sendRequestXML", "");
oom:
    pb_error_set(&err, PB_EOS, "out of memory");
fail:;
    char msg[600], line[700];
    pb_error_format(&err, msg, sizeof(msg));
    snprintf(line, sizeof(line), "cannot hand out the next request: %s", msg);
    set_error(s, line);
    pb_error_init(&err);
    session_save(s, &err);
    pb_buf_release(&doc);
    return pb_soap_reply_string(out, "sendRequestXML", "");
}

/*
 * The answer as it came through SOAP is Unicode text, now UTF-8, but it still carries
 * QBPOS's own declaration (encoding="windows-1252"): the file gets a declaration that
 * says what the bytes are.
 */
static int
as_utf8_doc(const char *resp, struct pb_buf *out)
{
    const char *p = resp;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (!strncmp(p, "\xef\xbb\xbf", 3))
        p += 3;
    if (!strncmp(p, "<?xml", 5) && (p[5] == ' ' || p[5] == '\t' || p[5] == '\r' || p[5] == '\n' || p[5] == '?')) {
        const char *e = strstr(p, "?>");
        if (e)
            p = e + 2;
    }
    return pb_buf_adds(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>") < 0 ||
                   pb_buf_adds(out, p) < 0
               ? -1
               : 0;
}

/* An outbox document's answer: to the inbox, journal, ingest. */
static int
receive_outbox(struct svc *s, json_t *item, const char *resp, struct pb_error *err)
{
    const char *name = json_string_value(json_object_get(item, "name"));
    const char *sha = json_string_value(json_object_get(item, "doc"));
    const char *inbox = s->cfg->run_inbox;
    char *inbox_dflt = inbox ? NULL : home_path(s, "qbwc/inbox");
    char *file = NULL, *stored = NULL;
    struct pb_buf doc = PB_BUF_INIT, key = PB_BUF_INIT, alt = PB_BUF_INIT;
    int rc = -1;
    if (!inbox)
        inbox = inbox_dflt;
    if (!inbox || as_utf8_doc(resp, &doc) < 0 || pb_buf_addf(&key, "outbox:%s", name) < 0) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    /* an earlier answer of the same name still waiting there is not overwritten */
    stored = strdup(name);
    for (int k = 2; stored && (file = pb_path_join(inbox, stored)) && file_exists(file) && k < 1000; k++) {
        free(file);
        file = NULL;
        free(stored);
        pb_buf_reset(&alt);
        if (pb_buf_addf(&alt, "%.*s.%d.xml", (int)(strlen(name) - 4), name, k) < 0)
            stored = NULL;
        else
            stored = strdup(alt.data);
    }
    if (!stored || !file) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    if (pb_mkdirs(inbox, 0755, err) < 0 || pb_atomic_write(file, doc.data, doc.len, err) < 0)
        goto out;
    uint64_t seq = 0;
    json_t *last = pb_journal_last(&s->journal, key.data);
    if (last && !strcmp(json_string_value(json_object_get(last, "kind")), "intent"))
        seq = (uint64_t)json_integer_value(json_object_get(last, "seq"));
    if (pb_journal_outcome(&s->journal, seq, "qbwc-send", key.data,
                           json_pack("{s:s, s:s?, s:s}", "status", "received", "doc", sha,
                                     "inbox", stored),
                           err) < 0 ||
        pb_journal_sync(&s->journal, err) < 0)
        goto out;
    /* the outbox copy has its answer now (unless `run` replaced it meanwhile) */
    struct pb_buf cur = PB_BUF_INIT;
    char *op = pb_path_join(s->cfg->run_outbox, name);
    char now[DOC_ID] = "";
    if (op && read_all(op, MAX_DOC, &cur) == 0)
        doc_id(op, &cur, now);
    if (sha && !strcmp(now, sha))
        move_into(s->cfg->run_outbox, name, "sent");
    free(op);
    pb_buf_release(&cur);
    iset(s, "answers", iget(s, "answers") + 1);
    char *batch = batch_of(s, name);
    if (batch) {
        long refused = ingest_file(s, inbox, stored, batch);
        if (refused > 0) {
            char line[600];
            snprintf(line, sizeof(line),
                     "QBPOS refused %ld of the requests in %s; the reasons are in %s/qbpos/results.jsonl",
                     refused, name, batch);
            set_error(s, line);
        }
    } else {
        pb_log(PB_LOG_WARN, "qbwc: %s belongs to no batch: its answer stays in %s/%s", name, inbox,
               stored);
    }
    free(batch);
    rc = 0;
out:
    free(inbox_dflt);
    free(file);
    free(stored);
    pb_buf_release(&doc);
    pb_buf_release(&key);
    pb_buf_release(&alt);
    return rc;
}

struct items_answer {
    int seen;
    long code, remaining, rets;
    char severity[16], message[256], iterator_id[128];
};

static int
on_items_answer(void *user, const struct pb_qbpos_answer *a, struct pb_error *err)
{
    struct items_answer *x = user;
    (void)err;
    if (!a->element || strcmp(a->element, "ItemInventoryQueryRs") || x->seen)
        return 0;
    x->seen = 1;
    x->code = a->code;
    x->remaining = a->remaining;
    x->rets = a->rets;
    snprintf(x->severity, sizeof(x->severity), "%s", a->severity ? a->severity : "");
    snprintf(x->message, sizeof(x->message), "%s", a->message ? a->message : "");
    snprintf(x->iterator_id, sizeof(x->iterator_id), "%s", a->iterator_id ? a->iterator_id : "");
    return 0;
}

/* Point `run` at the new catalog batch, so the next night carries it to the stores. */
static void
hand_to_run(struct svc *s, const char *batch_dir)
{
    char *p = home_path(s, "state/run.json");
    json_error_t je;
    json_t *j = p ? json_load_file(p, 0, &je) : NULL;
    struct pb_error err;
    pb_error_init(&err);
    if (!j)
        j = json_object();
    const char *slash = strrchr(batch_dir, '/');
    json_object_set_new(j, "catalog_batch", json_string(slash ? slash + 1 : batch_dir));
    json_object_del(j, "settings_fingerprint"); /* so run transforms it */
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    char *dir = home_path(s, "state");
    if (!text || !dir || pb_mkdirs(dir, 0700, &err) < 0 || pb_atomic_write(p, text, strlen(text), &err) < 0)
        pb_log(PB_LOG_WARN, "qbwc: cannot record the new catalog batch in %s", p ? p : "state/run.json");
    free(text);
    free(dir);
    free(p);
    json_decref(j);
}

static int
finish_items(struct svc *s, struct pb_error *err)
{
    char *dir = chunk_dir(s);
    json_t *names = dir ? list_xml(dir) : NULL;
    size_t n = json_array_size(names);
    char **paths = calloc(n + 1, sizeof(*paths));
    char *batches = home_path(s, "batches");
    int rc = -1;
    if (!dir || !names || !paths || !batches) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (!(paths[i] = pb_path_join(dir, json_string_value(json_array_get(names, i))))) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
    if (iget(s, "items") > 0) {
        struct pb_export_opts o = {0};
        struct pb_export_result res;
        o.inputs = (const char *const *)paths;
        o.ninputs = (int)n;
        o.batches_dir = batches;
        o.enc = s->cfg->format;
        o.gzip = s->cfg->gzip;
        o.tz = s->cfg->qbpos_tz;
        o.now = (int64_t)time(NULL);
        if (pb_export_run(&o, &res, err) < 0)
            goto out;
        pb_log(PB_LOG_INFO, "qbwc: %zu item chunks: %llu items, %llu rejected -> %s", n,
               (unsigned long long)res.written, (unsigned long long)res.rejected, res.batch_dir);
        sset(s, "export_batch", res.batch_dir);
        iset(s, "exported", (json_int_t)res.written);
        hand_to_run(s, res.batch_dir);
        free(res.batch_dir);
    } else {
        pb_log(PB_LOG_INFO, "qbwc: no item changed in QBPOS since the last export");
    }
    /* the iteration is complete: the next one asks only for what changes after it began */
    char *sp = home_path(s, "state/qbwc/items.json");
    json_t *j = json_pack("{s:I}", "last_complete_start", iget(s, "iter_started"));
    char *text = j ? json_dumps(j, JSON_SORT_KEYS) : NULL;
    rc = !sp || !text ? pb_error_set(err, PB_EOS, "out of memory")
                      : pb_atomic_write(sp, text, strlen(text), err);
    free(sp);
    free(text);
    json_decref(j);
out:
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    free(batches);
    free(dir);
    json_decref(names);
    return rc;
}

static int
receive_items(struct svc *s, const char *resp, struct pb_error *err)
{
    struct items_answer a;
    struct pb_buf doc = PB_BUF_INIT;
    char line[700];
    memset(&a, 0, sizeof(a));
    if (as_utf8_doc(resp, &doc) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    struct pb_error bad;
    pb_error_init(&bad);
    if (pb_qbpos_read_responses("the item answer", doc.data, doc.len, on_items_answer, &a, &bad) < 0 ||
        !a.seen) {
        char msg[600];
        pb_error_format(&bad, msg, sizeof(msg));
        snprintf(line, sizeof(line), "the item query's answer cannot be read: %s; the item export "
                                     "is dropped for this session",
                 a.seen ? msg : bad.code ? msg : "no ItemInventoryQueryRs in it");
        set_error(s, line);
        drop_iteration(s);
        next_item(s);
        pb_buf_release(&doc);
        return 0;
    }
    if (a.code != 0 && a.code != 1 && !strcmp(a.severity, "Error")) {
        snprintf(line, sizeof(line), "QBPOS refused the item query: status %ld: %s; the item "
                                     "export is dropped for this session",
                 a.code, a.message);
        set_error(s, line);
        drop_iteration(s);
        next_item(s);
        pb_buf_release(&doc);
        return 0;
    }
    if (iget(s, "chunks") > 0 && a.remaining >= iget(s, "remaining")) {
        /* an iterator that does not move would be asked for the same chunk for ever */
        snprintf(line, sizeof(line), "QBPOS's item iterator does not advance (%ld items still to "
                                     "come, as before); the item export is dropped for this session",
                 a.remaining);
        set_error(s, line);
        drop_iteration(s);
        next_item(s);
        pb_buf_release(&doc);
        return 0;
    }
    char *dir = chunk_dir(s);
    struct pb_buf f = PB_BUF_INIT;
    int rc = -1;
    if (!dir || pb_buf_addf(&f, "%s/%04lld.xml", dir, (long long)iget(s, "chunks") + 1) < 0) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    if (pb_mkdirs(dir, 0700, err) < 0 || pb_atomic_write(f.data, doc.data, doc.len, err) < 0)
        goto out;
    iset(s, "chunks", iget(s, "chunks") + 1);
    iset(s, "items", iget(s, "items") + a.rets);
    iset(s, "remaining", a.remaining > 0 ? a.remaining : 0);
    if (a.remaining > 0 && a.iterator_id[0]) {
        sset(s, "iterator_id", a.iterator_id);
        iset(s, "sent", 0);
        rc = 0;
        goto out;
    }
    if (finish_items(s, err) < 0) {
        char msg[600];
        pb_error_format(err, msg, sizeof(msg));
        snprintf(line, sizeof(line), "the item export failed: %s", msg);
        set_error(s, line);
        pb_error_init(err);
    }
    drop_iteration(s);
    next_item(s);
    rc = 0;
out:
    free(dir);
    pb_buf_release(&f);
    pb_buf_release(&doc);
    return rc;
}

static int
receive_request(struct svc *s, json_t *item, const char *resp, struct pb_error *err)
{
    const char *p = json_string_value(json_object_get(item, "path"));
    const char *base = strrchr(p, '/');
    char *dir = home_path(s, "qbwc/responses");
    char *file = dir ? pb_path_join(dir, base ? base + 1 : p) : NULL;
    struct pb_buf doc = PB_BUF_INIT;
    int rc = !file || as_utf8_doc(resp, &doc) < 0 ? pb_error_set(err, PB_EOS, "out of memory")
             : pb_mkdirs(dir, 0755, err) < 0       ? -1
                                                   : pb_atomic_write(file, doc.data, doc.len, err);
    if (rc == 0)
        pb_log(PB_LOG_INFO, "qbwc: the answer to %s is in %s", p, file);
    free(dir);
    free(file);
    pb_buf_release(&doc);
    return rc;
}

static int
on_receiveResponseXML(struct svc *s, const struct pb_soap_call *c, struct pb_buf *out)
{
    const char *resp = pb_soap_param(c, "response"), *hr = pb_soap_param(c, "hresult");
    const char *msg = pb_soap_param(c, "message");
    json_t *item = queue_item(s);
    struct pb_error err;
    char line[800];
    pb_error_init(&err);
    if (!item || !iget(s, "sent")) {
        set_error(s, "an answer came with no request waiting for one");
        session_save(s, &err);
        return pb_soap_reply_int(out, "receiveResponseXML", -1);
    }
    const char *kind = kind_of(item);
    const char *what = !strcmp(kind, "outbox") ? json_string_value(json_object_get(item, "name"))
                       : !strcmp(kind, "items") ? "the item query"
                                                : json_string_value(json_object_get(item, "path"));
    if ((hr && *hr) || !resp || !*resp) {
        char h[64], m[300];
        clean(hr, h, sizeof(h));
        clean(msg, m, sizeof(m));
        snprintf(line, sizeof(line), "QBPOS could not run %s: %s %s%s", what, h[0] ? h : "(no answer)",
                 m, !strcmp(kind, "outbox") ? "; it will be checked, not sent again, next session" : "");
        set_error(s, line);
        if (!strcmp(kind, "items"))
            drop_iteration(s);
        next_item(s);
    } else {
        int rc = !strcmp(kind, "outbox") ? receive_outbox(s, item, resp, &err)
                 : !strcmp(kind, "items") ? receive_items(s, resp, &err)
                                          : receive_request(s, item, resp, &err);
        if (rc < 0) {
            char e[600];
            pb_error_format(&err, e, sizeof(e));
            snprintf(line, sizeof(line), "cannot record the answer to %s: %s", what, e);
            set_error(s, line);
            pb_error_init(&err);
            session_save(s, &err);
            return pb_soap_reply_int(out, "receiveResponseXML", -1);
        }
        if (strcmp(kind, "items"))
            next_item(s);
    }
    int pct = percent(s);
    pb_error_init(&err);
    if (session_save(s, &err) < 0) {
        pb_log_error(PB_LOG_WARN, &err);
        return pb_soap_reply_int(out, "receiveResponseXML", -1);
    }
    return pb_soap_reply_int(out, "receiveResponseXML", pct);
}

/* ---- authenticate ---- */

static int
on_authenticate(struct svc *s, const struct pb_soap_call *c, struct pb_buf *out)
{
    const char *user = pb_soap_param(c, "strUserName"), *pw = pb_soap_param(c, "strPassword");
    const struct pb_config *cfg = s->cfg;
    char ticket[33], who[80];
    struct pb_error err;
    pb_error_init(&err);
    clean(user, who, sizeof(who));
    if (new_ticket(ticket) < 0) {
        const char *v[] = {"", "nvu"};
        pb_log(PB_LOG_ERROR, "qbwc: no random bytes for a ticket");
        return pb_soap_reply_strings(out, "authenticate", v, 2);
    }
    if (!cfg->qbwc_user || !cfg->qbwc_password_hash) {
        const char *v[] = {ticket, "nvu"};
        pb_log(PB_LOG_ERROR, "qbwc: [qbwc] user and password_hash are not configured; every "
                             "login is refused");
        return pb_soap_reply_strings(out, "authenticate", v, 2);
    }
    size_t ul = user ? strlen(user) : 0, cl = strlen(cfg->qbwc_user);
    int user_ok = ul == cl && pb_const_equal(user ? user : "", cfg->qbwc_user, cl);
    /* the hash is always computed, so a wrong user name takes as long as a wrong password */
    int pw_ok = pb_qbwc_check_password(cfg->qbwc_password_hash, pw ? pw : "", pw ? strlen(pw) : 0) == 1;
    if (!user_ok || !pw_ok) {
        const char *v[] = {ticket, "nvu"};
        pb_log(PB_LOG_WARN, "qbwc: authenticate: user '%s'%s%s: wrong user name or password; "
                            "refused (nvu)",
               who, s->remote ? " from " : "", s->remote ? s->remote : "");
        return pb_soap_reply_strings(out, "authenticate", v, 2);
    }
    int lk = take_lock(s);
    if (lk != 0) {
        const char *v[] = {ticket, "busy"};
        pb_log(PB_LOG_WARN, "qbwc: authenticate: %s; answered busy",
               lk > 0 ? "another run holds the home's lock" : "cannot take the home's lock");
        return pb_soap_reply_strings(out, "authenticate", v, 2);
    }
    sweep_sessions(s);
    ingest_leftovers(s);
    json_t *queue = json_array();
    int rc = journal(s, &err);
    json_t *names = rc == 0 && cfg->run_outbox ? list_xml(cfg->run_outbox) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        const char *name = json_string_value(v);
        char *p = pb_path_join(cfg->run_outbox, name);
        struct pb_buf doc = PB_BUF_INIT;
        char sha[DOC_ID];
        if (p && read_all(p, MAX_DOC, &doc) == 0) {
            doc_id(p, &doc, sha);
            int st = outbox_state(s, name, sha);
            if (st == 2)
                move_into(cfg->run_outbox, name, "sent");
            else if (st == 0 || reemit(s, name) == 0)
                json_array_append_new(queue, json_pack("{s:s, s:s}", "kind", "outbox", "name", name));
        }
        pb_buf_release(&doc);
        free(p);
    }
    json_decref(names);
    if (cfg->qbwc_items)
        json_array_append_new(queue, json_pack("{s:s}", "kind", "items"));
    for (int k = 0; k < cfg->qbwc_requests.n; k++)
        json_array_append_new(queue, json_pack("{s:s, s:s}", "kind", "request", "path",
                                               cfg->qbwc_requests.v[k]));
    if (rc < 0 || !json_array_size(queue)) {
        const char *ans[] = {ticket, "none"};
        if (rc < 0)
            pb_log_error(PB_LOG_ERROR, &err);
        else
            pb_log(PB_LOG_INFO, "qbwc: authenticate: user '%s': nothing to do", who);
        json_decref(queue);
        return pb_soap_reply_strings(out, "authenticate", ans, 2);
    }
    snprintf(s->ticket, sizeof(s->ticket), "%s", ticket);
    s->sess_path = session_file(s, ticket);
    time_t now = time(NULL);
    s->sess = json_pack("{s:s, s:I, s:I, s:o, s:i, s:i}", "user", cfg->qbwc_user, "created",
                        (json_int_t)now, "expires", (json_int_t)now + cfg->qbwc_ticket_lifetime,
                        "queue", queue, "pos", 0, "sent", 0);
    if (!s->sess_path || !s->sess || session_save(s, &err) < 0) {
        const char *ans[] = {ticket, "busy"};
        pb_log_error(PB_LOG_ERROR, &err);
        return pb_soap_reply_strings(out, "authenticate", ans, 2);
    }
    pb_log(PB_LOG_INFO, "qbwc: authenticate: user '%s'%s%s: session of %zu documents", who,
           s->remote ? " from " : "", s->remote ? s->remote : "", json_array_size(queue));
    const char *ans[] = {ticket, cfg->qbwc_company ? cfg->qbwc_company : ""};
    return pb_soap_reply_strings(out, "authenticate", ans, 2);
}

/* ---- the other calls ---- */

static int
on_close(struct svc *s, struct pb_buf *out)
{
    char text[700];
    const char *batch = sget(s, "export_batch");
    const char *slash = batch ? strrchr(batch, '/') : NULL;
    snprintf(text, sizeof(text),
             "posbridge: %lld requests sent, %lld answers filed, %lld items exported%s%s; %lld "
             "errors%s%s",
             (long long)iget(s, "requests"), (long long)iget(s, "answers"),
             (long long)iget(s, "exported"), batch ? " to " : "", slash ? slash + 1 : "",
             (long long)iget(s, "errors"), sget(s, "last_error") && iget(s, "errors") ? ": last: " : "",
             sget(s, "last_error") && iget(s, "errors") ? sget(s, "last_error") : "");
    pb_log(PB_LOG_INFO, "qbwc: closeConnection: %s", text);
    drop_iteration(s);
    unlink(s->sess_path);
    return pb_soap_reply_string(out, "closeConnection", text);
}

static const char *const session_calls[] = {"sendRequestXML", "receiveResponseXML", "getLastError",
                                            "connectionError", "closeConnection"};

int
pb_qbwc_handle(const struct pb_config *cfg, const struct pb_soap_call *c, const char *remote,
               struct pb_qbwc_reply *r)
{
    struct svc s;
    int rc;
    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.remote = remote;
    s.lockfd = -1;
    r->status = 200;
    const char *m = c->method;
    if (!strcmp(m, "serverVersion")) {
        rc = pb_soap_reply_string(&r->body, m, "posbridge " PB_VERSION);
    } else if (!strcmp(m, "clientVersion")) {
        char v[64];
        clean(pb_soap_param(c, "strVersion"), v, sizeof(v));
        pb_log(PB_LOG_INFO, "qbwc: clientVersion %s", v);
        rc = pb_soap_reply_string(&r->body, m, "");
    } else if (!strcmp(m, "authenticate")) {
        rc = on_authenticate(&s, c, &r->body);
    } else {
        size_t k;
        for (k = 0; k < sizeof(session_calls) / sizeof(session_calls[0]); k++)
            if (!strcmp(m, session_calls[k]))
                break;
        if (k == sizeof(session_calls) / sizeof(session_calls[0])) {
            char name[64], msg[128];
            clean(m, name, sizeof(name));
            snprintf(msg, sizeof(msg), "posbridge does not implement '%s'", name);
            r->status = 500;
            rc = pb_soap_fault(&r->body, "Client", msg);
            goto out;
        }
        const char *why;
        if (session_load(&s, pb_soap_param(c, "ticket"), &why) < 0) {
            pb_log(PB_LOG_INFO, "qbwc: %s: %s", m, why);
            rc = !strcmp(m, "sendRequestXML")       ? pb_soap_reply_string(&r->body, m, "")
                 : !strcmp(m, "receiveResponseXML") ? pb_soap_reply_int(&r->body, m, -1)
                 : !strcmp(m, "connectionError")    ? pb_soap_reply_string(&r->body, m, "done")
                 : !strcmp(m, "getLastError")       ? pb_soap_reply_string(&r->body, m, why)
                                                    : pb_soap_reply_string(&r->body, m, why);
            goto out;
        }
        if (!strcmp(m, "getLastError")) {
            const char *e = sget(&s, "last_error");
            if (iget(&s, "busy")) {
                iset(&s, "busy", 0);
                struct pb_error err;
                pb_error_init(&err);
                session_save(&s, &err);
                e = "NoOp";
            }
            rc = pb_soap_reply_string(&r->body, m, e ? e : "no error");
        } else if (!strcmp(m, "connectionError")) {
            char h[64], msg[300], line[500];
            clean(pb_soap_param(c, "hresult"), h, sizeof(h));
            clean(pb_soap_param(c, "message"), msg, sizeof(msg));
            snprintf(line, sizeof(line), "the Web Connector could not open QBPOS: %s %s", h, msg);
            set_error(&s, line);
            struct pb_error err;
            pb_error_init(&err);
            session_save(&s, &err);
            rc = pb_soap_reply_string(&r->body, m, "done");
        } else if (!strcmp(m, "closeConnection")) {
            rc = on_close(&s, &r->body);
        } else {
            int lk = take_lock(&s);
            struct pb_error err;
            pb_error_init(&err);
            if (lk == 0 && journal(&s, &err) < 0) {
                pb_log_error(PB_LOG_ERROR, &err);
                lk = -1;
            }
            if (lk != 0 && !strcmp(m, "sendRequestXML")) {
                /* NoOp: QBWC waits five seconds and asks again */
                iset(&s, "busy", 1);
                pb_error_init(&err);
                session_save(&s, &err);
                pb_log(PB_LOG_INFO, "qbwc: sendRequestXML: the home is locked; answered NoOp");
                rc = pb_soap_reply_string(&r->body, m, "NoOp");
            } else if (lk != 0) {
                set_error(&s, "posbridge was busy (another run holds the home's lock): this answer "
                              "was not recorded; QBPOS is asked about it next session");
                pb_error_init(&err);
                session_save(&s, &err);
                rc = pb_soap_reply_int(&r->body, m, -1);
            } else if (!strcmp(m, "sendRequestXML")) {
                rc = on_sendRequestXML(&s, c, &r->body);
            } else {
                rc = on_receiveResponseXML(&s, c, &r->body);
            }
        }
    }
out:
    if (s.journal_open) {
        struct pb_error err;
        pb_error_init(&err);
        if (pb_journal_close(&s.journal, &err) < 0)
            pb_log_error(PB_LOG_WARN, &err);
    }
    drop_lock(&s);
    json_decref(s.sess);
    free(s.sess_path);
    return rc < 0 ? -1 : 0;
}

/* ---- the .qwc file ---- */

/* A stable {GUID} from text: the first 16 bytes of its SHA-256, shaped as a version 4 UUID. */
static void
guid_of(const char *a, const char *b, char out[39])
{
    struct pb_sha256 s;
    unsigned char d[32];
    pb_sha256_init(&s);
    pb_sha256_update(&s, a, strlen(a));
    pb_sha256_update(&s, "\n", 1);
    pb_sha256_update(&s, b, strlen(b));
    pb_sha256_final(&s, d);
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x40);
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
    snprintf(out, 39,
             "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}", d[0], d[1],
             d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14],
             d[15]);
}

static int
tag(struct pb_buf *b, const char *name, const char *v)
{
    return pb_buf_addf(b, "  <%s>", name) < 0 || pb_xml_escape(b, v, strlen(v)) < 0 ||
                   pb_buf_addf(b, "</%s>\n", name) < 0
               ? -1
               : 0;
}

int
pb_qbwc_file(const struct pb_config *cfg, struct pb_buf *out, struct pb_error *err)
{
    if (!cfg->qbwc_app_url || !cfg->qbwc_user)
        return pb_error_set(err, PB_ECONFIG, "%s: [qbwc]: 'app_url' and 'user' are needed for the "
                                             ".qwc file",
                            cfg->path ? cfg->path : "config");
    const char *name = cfg->qbwc_app_name ? cfg->qbwc_app_name : "posbridge";
    char owner[39], file[39], every[16];
    guid_of("posbridge owner", name, owner);
    guid_of(cfg->qbwc_app_url, cfg->qbwc_user, file);
    snprintf(every, sizeof(every), "%d", cfg->qbwc_run_every);
    int bad = pb_buf_adds(out, "<?xml version=\"1.0\"?>\n<QBWCXML>\n") < 0 ||
              tag(out, "AppName", name) < 0 || tag(out, "AppID", "") < 0 ||
              tag(out, "AppURL", cfg->qbwc_app_url) < 0 ||
              tag(out, "AppDescription", "posbridge: web store orders into QBPOS, items back out") < 0 ||
              tag(out, "AppSupport", cfg->qbwc_app_support ? cfg->qbwc_app_support : cfg->qbwc_app_url) < 0 ||
              tag(out, "UserName", cfg->qbwc_user) < 0 ||
              tag(out, "OwnerID", cfg->qbwc_owner_id ? cfg->qbwc_owner_id : owner) < 0 ||
              tag(out, "FileID", cfg->qbwc_file_id ? cfg->qbwc_file_id : file) < 0 ||
              tag(out, "QBType", "QBPOS") < 0 || tag(out, "Style", "Document") < 0 ||
              pb_buf_addf(out, "  <Scheduler>\n    <RunEveryNMinutes>%s</RunEveryNMinutes>\n  "
                               "</Scheduler>\n",
                          every) < 0 ||
              tag(out, "IsReadOnly", "false") < 0 ||
              pb_buf_adds(out, "</QBWCXML>\n") < 0;
    return bad ? pb_error_set(err, PB_EOS, "out of memory") : 0;
}
