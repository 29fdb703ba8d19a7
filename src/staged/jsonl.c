/*
 * JSONL reading with jansson: one JSON object per line, keys are field names.  Money,
 * quantities and other decimals are JSON strings so they stay exact; integers and
 * booleans are bare.  jansson gives the column of a syntax error; for a bad value we
 * point at its key in the line.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posbridge/err.h"
#include "staged_int.h"
#include "posbridge/banned.h"

#define RDBUF 65536

/* Next line into rd->line without its newline.  1 = a line, 0 = end, -1 = error. */
static int
next_line(struct pb_reader *rd, struct pb_error *err)
{
    pb_buf_reset(&rd->line);
    if (!rd->rdbuf && !(rd->rdbuf = malloc(RDBUF)))
        return pb_error_set(err, PB_EOS, "out of memory");
    int any = 0;
    for (;;) {
        if (rd->rdpos == rd->rdlen) {
            if (rd->eof)
                break;
            long n = pb_reader_fill(rd, rd->rdbuf, RDBUF, err);
            if (n < 0)
                return -1;
            if (n == 0) {
                rd->eof = 1;
                break;
            }
            rd->rdlen = (size_t)n;
            rd->rdpos = 0;
        }
        any = 1;
        char *start = rd->rdbuf + rd->rdpos;
        char *nl = memchr(start, '\n', rd->rdlen - rd->rdpos);
        size_t n = nl ? (size_t)(nl - start) : rd->rdlen - rd->rdpos;
        if (pb_buf_add(&rd->line, start, n) < 0)
            return pb_error_at(err, PB_EDATA, rd->path, rd->lineno + 1, -1, -1, NULL,
                               "line is longer than %d bytes", PB_LINE_MAX);
        rd->rdpos += n;
        if (nl) {
            rd->rdpos++;
            break;
        }
    }
    if (!any)
        return 0;
    rd->lineno++;
    if (rd->line.len && rd->line.data[rd->line.len - 1] == '\r')
        pb_buf_truncate(&rd->line, rd->line.len - 1);
    if (rd->lineno == 1 && rd->line.len >= 3 && memcmp(rd->line.data, "\xef\xbb\xbf", 3) == 0) {
        memmove(rd->line.data, rd->line.data + 3, rd->line.len - 3);
        pb_buf_truncate(&rd->line, rd->line.len - 3);
    }
    return 1;
}

/* Column of `"key":` in the current line, from 1 (a key, not a value); 1 if not found. */
static long
key_column(const struct pb_reader *rd, const char *key)
{
    size_t k = strlen(key);
    const char *l = rd->line.data, *end = l + rd->line.len;
    for (const char *p = l; (p = memchr(p, '"', (size_t)(end - p))) != NULL; p++) {
        if ((size_t)(end - p) < k + 2 || memcmp(p + 1, key, k) != 0 || p[k + 1] != '"')
            continue;
        const char *q = p + k + 2;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q < end && *q == ':')
            return (long)(p - l) + 1;
    }
    return 1;
}

static int
value_text(const struct pb_field *f, json_t *v, char *tmp, size_t tmpsz, const char **s,
           size_t *len, const char **why)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (f && (f->type == PB_T_BOOL)) {
            *why = "write booleans as true or false, without quotes";
            return -1;
        }
        *s = json_string_value(v);
        *len = json_string_length(v);
        return 0;
    case JSON_INTEGER:
        if (f && f->type != PB_T_INT && f->type != PB_T_MONEY && f->type != PB_T_QTY &&
            f->type != PB_T_DECIMAL && f->type != PB_T_TEXT && f->type != PB_T_ID) {
            *why = "a number is not allowed here";
            return -1;
        }
        *len = (size_t)snprintf(tmp, tmpsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *s = tmp;
        return 0;
    case JSON_TRUE:
    case JSON_FALSE:
        if (f && f->type != PB_T_BOOL && f->type != PB_T_TEXT) {
            *why = "a boolean is not allowed here";
            return -1;
        }
        *s = json_is_true(v) ? "true" : "false";
        *len = strlen(*s);
        return 0;
    case JSON_REAL:
        *why = "write decimals as strings (\"39.99\") so they stay exact";
        return -1;
    default:
        *why = "must be a string, number or boolean";
        return -1;
    }
}

int
pb_jsonl_next(struct pb_reader *rd, struct pb_rec *rec, struct pb_error *bad,
              struct pb_error *err)
{
    json_error_t je;
    for (;;) {
        int r = next_line(rd, err);
        if (r <= 0)
            return r;
        size_t i = 0;
        while (i < rd->line.len && (rd->line.data[i] == ' ' || rd->line.data[i] == '\t'))
            i++;
        if (i == rd->line.len)
            continue; /* blank line */
        break;
    }
    rd->record_no++;
    rec->line = rd->lineno;
    rec->record_no = rd->record_no;
    json_t *obj = json_loadb(rd->line.data, rd->line.len,
                             JSON_REJECT_DUPLICATES, &je);
    if (!obj) {
        pb_error_at(bad, PB_EDATA, rd->path, rd->lineno, je.column > 0 ? je.column : 1,
                    rd->record_no, NULL, "%s", je.text);
        return PB_READ_REJECT;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        pb_error_at(bad, PB_EDATA, rd->path, rd->lineno, 1, rd->record_no, NULL,
                    "each line must be a JSON object");
        return PB_READ_REJECT;
    }
    int rejected = 0;
    const char *key;
    json_t *v;
    char tmp[64];
    json_object_foreach(obj, key, v) {
        const char *s, *why = NULL;
        size_t len;
        if (json_is_null(v))
            continue;
        int f = pb_schema_field(rd->s, key, strlen(key));
        if (f < 0 && strncmp(key, "x_", 2) == 0 && key[2]) {
            if (value_text(NULL, v, tmp, sizeof(tmp), &s, &len, &why) == 0) {
                if (pb_rec_add_extra(rec, key, strlen(key), s, len) < 0)
                    goto oom;
                continue;
            }
        }
        if (f < 0 && !why) {
            if (!rejected++)
                pb_error_at(bad, PB_EDATA, rd->path, rd->lineno, key_column(rd, key),
                            rd->record_no, NULL,
                            "unknown field '%.100s' (name your own fields x_...)", key);
            continue;
        }
        if (f >= 0)
            rd->present[f] = 1;
        if (!why && value_text(&rd->s->fields[f], v, tmp, sizeof(tmp), &s, &len, &why) == 0 &&
            pb_rec_set_checked(rec, f, s, len, rd->o.tz, &why) == 0)
            continue;
        if (!rejected++) {
            if (f >= 0 && json_is_string(v))
                pb_error_at(bad, PB_EDATA, rd->path, rd->lineno, key_column(rd, key),
                            rd->record_no, rd->s->fields[f].name, "%s: '%.40s'", why,
                            json_string_value(v));
            else
                pb_error_at(bad, PB_EDATA, rd->path, rd->lineno, key_column(rd, key),
                            rd->record_no, f >= 0 ? rd->s->fields[f].name : key, "%s", why);
        }
        if (f >= 0 && json_is_string(v) &&
            pb_rec_set(rec, f, json_string_value(v), json_string_length(v)) < 0)
            goto oom;
    }
    json_decref(obj);
    int miss = pb_rec_missing(rec);
    if (miss >= 0 && !rejected) {
        rejected = 1;
        pb_error_at(bad, PB_EDATA, rd->path, rd->lineno, 1, rd->record_no,
                    rd->s->fields[miss].name, "required value is missing");
    }
    return rejected ? PB_READ_REJECT : PB_READ_OK;
oom:
    json_decref(obj);
    return pb_error_set(err, PB_EOS, "out of memory");
}
