/*
 * Mapping tables: CSV files a retailer edits in a spreadsheet (formats/maps.tsv), rows
 * "field,from,to[,note]" such as "attribute,Rose,Red".  A value is matched exactly after
 * trimming (or ignoring case), "*" is the default for values not listed, and a value no
 * row matches passes through unchanged and is remembered, so the stage summary can list
 * what still needs a mapping.
 */
#ifndef PB_MAPS_H
#define PB_MAPS_H

#include <stddef.h>

struct pb_error;

enum pb_map_field {
    PB_MAP_ATTRIBUTE, PB_MAP_SIZE, PB_MAP_OPTION3, PB_MAP_DEPARTMENT, PB_MAP_CATEGORY,
    PB_MAP_VENDOR, PB_MAP_TAG, PB_MAP_TENDER, PB_MAP__COUNT
};

struct pb_maps;

/* An empty set of maps; ci: match ignoring case. */
struct pb_maps *pb_maps_new(int ci);
void pb_maps_free(struct pb_maps *m);

/*
 * Add the rows of a mapping table.  Later rows (and later files) override earlier ones
 * for the same field and value.  A bad row is an error with file:line:column (PB_ECONFIG:
 * a mapping table is configuration).
 */
int pb_maps_load(struct pb_maps *m, const char *path, struct pb_error *err);

/*
 * Map value v of field f.  Returns the mapped value (borrowed from the maps), or v
 * itself when nothing matches; *len is updated.  *mapped tells which.  Unmatched values
 * of a field that has at least one row are remembered for pb_maps_unmapped (except tags:
 * a tag map lists only the tags to rename or drop).
 */
const char *pb_maps_apply(struct pb_maps *m, enum pb_map_field f, const char *v, size_t *len,
                          int *mapped);

/* Remember v as a value of field f that went through unmapped, as pb_maps_apply does when
 * it finds no row (for the same value, the same maps give the same answer). */
void pb_maps_note_unmapped(struct pb_maps *m, enum pb_map_field f, const char *v, size_t len);

/* True when field f has any row (so applying it means something). */
int pb_maps_has(const struct pb_maps *m, enum pb_map_field f);

/*
 * The values that passed through unmapped, field by field, in first-seen order:
 * calls fn(user, field name, value, count) for each.
 */
void pb_maps_unmapped(const struct pb_maps *m,
                      void (*fn)(void *user, const char *field, const char *value,
                                 unsigned long count),
                      void *user);

const char *pb_map_field_name(enum pb_map_field f);

#endif
