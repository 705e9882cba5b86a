/* Whether two JSON values say the same thing, as values rather than as
 * jansson's types: 0 and 0.0 are one number (jansson's json_equal calls them
 * different, so a config.json that an editor or jq wrote back with 0.0 as 0
 * read as changed). Objects are equal key by key whatever their order,
 * arrays element by element; strings, booleans and null as json_equal. */
#ifndef NNCL_JSON_SAME_H
#define NNCL_JSON_SAME_H

#include <jansson.h>
#include <stdbool.h>

bool nncl_json_same(const json_t *a, const json_t *b);

#endif
