/*
 * saxnoop: the parser's own limit.  Parses one file with libxml2's SAX2 push
 * parser and callbacks that do nothing, so its run time is what libxml2 needs
 * to tokenize and decode the document.  Our export benchmark compares
 * `posbridge export` against this number.
 *
 * Build: cc -O2 -std=c11 $(pkg-config --cflags libxml-2.0) tests/bench/saxnoop.c \
 *            $(pkg-config --libs libxml-2.0) -o saxnoop
 * Usage: saxnoop FILE
 * Exit:  0 well-formed, 1 not well-formed (first error on stderr as
 *        FILE:LINE:COL: message), 2 usage or I/O error.
 *
 * Options: XML_PARSE_NONET only.  XML_PARSE_NOENT (entity substitution),
 * XML_PARSE_DTDLOAD and XML_PARSE_HUGE are deliberately not set: the same
 * safety settings as the real reader (STYLE.md section 13).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#define CHUNK (64 * 1024)

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
         int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
         const xmlChar **attributes)
{
    (void)ctx; (void)localname; (void)prefix; (void)uri; (void)nb_namespaces;
    (void)namespaces; (void)nb_attributes; (void)nb_defaulted; (void)attributes;
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    (void)ctx; (void)localname; (void)prefix; (void)uri;
}

static void
on_chars(void *ctx, const xmlChar *ch, int len)
{
    (void)ctx; (void)ch; (void)len;
}

/* Errors are reported once, at the end, from xmlCtxtGetLastError. */
static void
on_serror(void *ctx, xmlErrorPtr err)
{
    (void)ctx; (void)err;
}

int
main(int argc, char **argv)
{
    static char buf[CHUNK];
    xmlSAXHandler sax;
    xmlParserCtxtPtr ctxt;
    const char *path;
    ssize_t n;
    int fd, wf, rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: saxnoop FILE\n");
        return 2;
    }
    path = argv[1];
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "saxnoop: %s: %s\n", path, strerror(errno));
        return 2;
    }

    LIBXML_TEST_VERSION

    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_chars;
    sax.serror = on_serror;

    /* The first read gives the parser the XML declaration, so it can pick the encoding. */
    n = read(fd, buf, sizeof buf);
    if (n < 0) {
        fprintf(stderr, "saxnoop: %s: %s\n", path, strerror(errno));
        close(fd);
        return 2;
    }
    ctxt = xmlCreatePushParserCtxt(&sax, NULL, buf, (int)n, path);
    if (ctxt == NULL) {
        fprintf(stderr, "saxnoop: cannot create parser\n");
        close(fd);
        return 2;
    }
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET);

    while (n > 0) {
        n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "saxnoop: %s: %s\n", path, strerror(errno));
            rc = 2;
            break;
        }
        if (xmlParseChunk(ctxt, buf, (int)n, n == 0) != 0)
            break;
    }
    close(fd);

    wf = ctxt->wellFormed;
    if (rc == 0 && !wf) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        /* libxml2 keeps the column of an error in int2. */
        if (e != NULL)
            fprintf(stderr, "%s:%d:%d: %s", path, e->line, e->int2,
                    e->message != NULL ? e->message : "not well-formed\n");
        else
            fprintf(stderr, "%s: not well-formed\n", path);
        rc = 1;
    }
    xmlFreeParserCtxt(ctxt);
    xmlCleanupParser();
    return rc;
}
