/*
 * Pure helpers of the Magento connector, exposed for the unit tests only.
 */
#ifndef PB_MAGENTO_INT_H
#define PB_MAGENTO_INT_H

#include <jansson.h>

#include "posbridge/config.h"

/* A decimal string ("24.99", "0.5", "3") as a JSON number that prints back as the same
 * decimal (integers as integers, the others as the nearest double, which the REST layer
 * prints with 15 significant digits); NULL when s is not a decimal of at most 6 places. */
json_t *pb_magento_number(const char *s);

/* The store attribute code for an option name: option_attributes when it names one,
 * else the name lowercased.  malloc'd; NULL when out of memory. */
char *pb_magento_attr_code(const struct pb_store_cfg *st, const char *option);

/* A URL key piece: lowercase ASCII letters and digits, other runs turned into one '-',
 * none at either end.  malloc'd; NULL when out of memory. */
char *pb_magento_slug(const char *s);

/* The SKU an operation of a bulk was about, from its detailed status ("serialized_data"
 * holds the original body as JSON text inside JSON text); malloc'd, NULL when it cannot
 * tell. */
char *pb_magento_op_sku(json_t *op);

#endif
