/*
 * posbridge qbwc: the Web Connector endpoint as a CGI program (SOAP 1.1 over HTTP POST);
 * posbridge qbwc-file: the .qwc file for the Web Connector; posbridge qbwc-passwd: the
 * password hash for [qbwc] password_hash.  See qbwc.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "posbridge/atomic.h"
#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/qbwc.h"
#include "posbridge/timefmt.h"
#include "posbridge/banned.h"

static const char usage_qbwc[] = "posbridge qbwc [-qv] [-c FILE]   (a CGI program: run by the web server)";
static const char usage_file[] = "posbridge qbwc-file [-qv] [-c FILE] > posbridge.qwc";
static const char usage_passwd[] = "posbridge qbwc-passwd [--iterations N] < password";

#define DEFAULT_ITERATIONS 100000

static const char *
reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    default: return "Internal Server Error";
    }
}

static int
respond(int status, const struct pb_buf *body)
{
    printf("Status: %d %s\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: %zu\r\n%s\r\n",
           status, reason(status), body->len, status == 405 ? "Allow: POST\r\n" : "");
    if (body->len && fwrite(body->data, 1, body->len, stdout) != body->len)
        return PB_EX_IOERR;
    return 0;
}

static int
fault(int status, const char *code, const char *msg)
{
    struct pb_buf b = PB_BUF_INIT;
    int rc = pb_soap_fault(&b, code, msg) < 0 ? PB_EX_OSERR : respond(status, &b);
    pb_buf_release(&b);
    return rc;
}

/* The body: exactly CONTENT_LENGTH bytes from stdin, at most PB_SOAP_MAX_BODY. */
static int
read_body(struct pb_buf *body, int *status, const char **why)
{
    const char *cl = getenv("CONTENT_LENGTH");
    *status = 400;
    if (!cl || !*cl) {
        *status = 411;
        *why = "no Content-Length";
        return -1;
    }
    if (strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 12) {
        *why = "Content-Length is not a number";
        return -1;
    }
    unsigned long long n = strtoull(cl, NULL, 10);
    if (n > PB_SOAP_MAX_BODY) {
        *status = 413;
        *why = "the request is too large";
        return -1;
    }
    char chunk[65536];
    while (body->len < n) {
        size_t want = n - body->len < sizeof(chunk) ? (size_t)(n - body->len) : sizeof(chunk);
        size_t got = fread(chunk, 1, want, stdin);
        if (!got) {
            *why = "the request ended before Content-Length bytes";
            return -1;
        }
        if (pb_buf_add(body, chunk, got) < 0) {
            *status = 500;
            *why = "out of memory";
            return -1;
        }
    }
    return 0;
}

/* SOAPAction, when sent, must name the call in the body. */
static int
action_matches(const char *action, const char *method)
{
    static const char ns[] = "http://developer.intuit.com/";
    if (!action || !*action || !strcmp(action, "\"\""))
        return 1;
    size_t n = strlen(action);
    if (n >= 2 && action[0] == '"' && action[n - 1] == '"')
        action++, n -= 2;
    return n == strlen(ns) + strlen(method) && !strncmp(action, ns, strlen(ns)) &&
           !strncmp(action + strlen(ns), method, strlen(method));
}

static FILE *
open_log(const struct pb_config *cfg)
{
    char *dir = pb_config_path(cfg, "log");
    struct pb_buf p = PB_BUF_INIT;
    struct pb_error err;
    FILE *fp = NULL;
    pb_error_init(&err);
    if (dir && pb_mkdirs(dir, 0755, &err) == 0 && pb_buf_addf(&p, "%s/qbwc.log", dir) == 0)
        fp = fopen(p.data, "a");
    free(dir);
    pb_buf_release(&p);
    return fp;
}

int
cmd_qbwc(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {PB_COMMON_LONG, {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT, longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        if (opt == 'h')
            return pb_cli_help(usage_qbwc);
        return pb_cli_usage(usage_qbwc);
    }
    if (argc != optind)
        return pb_cli_usage(usage_qbwc);
    const char *method = getenv("REQUEST_METHOD");
    if (!method) {
        fprintf(stderr, "posbridge: qbwc: REQUEST_METHOD is not set: this is a CGI program for "
                        "the web server to run (see README, 'The Web Connector')\n");
        return PB_EX_USAGE;
    }
    struct pb_config cfg;
    struct pb_error err;
    pb_error_init(&err);
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        pb_log_error(PB_LOG_ERROR, &err);
        pb_config_release(&cfg);
        return fault(500, "Server", "posbridge cannot read its configuration (see the server's log)");
    }
    FILE *log = open_log(&cfg);
    if (log)
        pb_log_set_file(log);
    struct pb_buf body = PB_BUF_INIT;
    struct pb_soap_call call;
    struct pb_qbwc_reply reply = {200, PB_BUF_INIT};
    int rc, status;
    const char *why;
    memset(&call, 0, sizeof(call));
    const char *ctype = getenv("CONTENT_TYPE");
    char stamp[32]; /* the log file's lines have no time of their own */
    pb_time_format((int64_t)time(NULL), stamp);
    if (strcmp(method, "POST")) {
        rc = fault(405, "Client", "the Web Connector service answers POST only");
    } else if (ctype && !strncmp(ctype, "application/soap+xml", 20)) {
        rc = fault(500, "VersionMismatch", "SOAP 1.2 is not supported; send SOAP 1.1 (text/xml)");
    } else if (read_body(&body, &status, &why) < 0) {
        pb_log(PB_LOG_WARN, "qbwc: refused a request: %s", why);
        rc = fault(status, status == 500 ? "Server" : "Client", why);
    } else if (pb_soap_parse(body.data, body.len, &call, &err) < 0) {
        char msg[400], line[500];
        pb_error_format(&err, msg, sizeof(msg));
        snprintf(line, sizeof(line), "not a SOAP 1.1 call: %s", msg);
        pb_log(PB_LOG_WARN, "qbwc: refused a request: %s", line);
        rc = fault(500, err.code == PB_EOS ? "Server" : "Client", line);
    } else if (!action_matches(getenv("HTTP_SOAPACTION"), call.method)) {
        rc = fault(500, "Client", "SOAPAction does not name the call in the body");
    } else if (pb_log(PB_LOG_DEBUG, "qbwc: %s: %s", stamp, call.method),
               pb_qbwc_handle(&cfg, &call, getenv("REMOTE_ADDR"), &reply) < 0) {
        rc = fault(500, "Server", "out of memory");
    } else {
        rc = respond(reply.status, &reply.body);
    }
    pb_soap_call_release(&call);
    pb_buf_release(&body);
    pb_buf_release(&reply.body);
    pb_log_set_file(NULL);
    if (log)
        fclose(log);
    pb_config_release(&cfg);
    return rc;
}

int
cmd_qbwc_file(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {PB_COMMON_LONG, {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT, longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        if (opt == 'h')
            return pb_cli_help(usage_file);
        return pb_cli_usage(usage_file);
    }
    if (argc != optind)
        return pb_cli_usage(usage_file);
    struct pb_config cfg;
    struct pb_error err;
    struct pb_buf out = PB_BUF_INIT;
    pb_error_init(&err);
    int rc = pb_config_load(&cfg, ctx->config_path, &err) < 0 || pb_qbwc_file(&cfg, &out, &err) < 0
                 ? pb_cli_fail(&err)
                 : 0;
    if (!rc)
        fwrite(out.data, 1, out.len, stdout);
    pb_buf_release(&out);
    pb_config_release(&cfg);
    return rc;
}

int
cmd_qbwc_passwd(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"iterations", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    unsigned long iterations = DEFAULT_ITERATIONS;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "i:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage_passwd);
        case 'i': {
            char *end;
            errno = 0;
            iterations = strtoul(optarg, &end, 10);
            if (errno || *end || iterations < 1000 || iterations > 10000000) {
                fprintf(stderr, "posbridge: qbwc-passwd: --iterations must be 1000 to 10000000\n");
                return PB_EX_USAGE;
            }
            break;
        }
        default: return pb_cli_usage(usage_passwd);
        }
    }
    if (argc != optind)
        return pb_cli_usage(usage_passwd);
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "password (the one you type into the Web Connector): ");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (n <= 0) {
        fprintf(stderr, "posbridge: qbwc-passwd: no password on standard input\n");
        free(line);
        return PB_EX_NOINPUT;
    }
    char *h = pb_qbwc_hash_password(line, (size_t)n, iterations);
    memset(line, 0, cap);
    free(line);
    if (!h) {
        fprintf(stderr, "posbridge: qbwc-passwd: cannot make the hash (no random bytes?)\n");
        return PB_EX_OSERR;
    }
    printf("password_hash = %s\n", h);
    free(h);
    return 0;
}
