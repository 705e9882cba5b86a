#include "util/json_same.h"

bool nncl_json_same(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);   /* exact beyond 2^53 too */
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!nncl_json_same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *key;
        json_t *v;
        /* json_object_foreach takes a non-const object; nothing is changed */
        json_object_foreach ((json_t *)a, key, v)
            if (!nncl_json_same(v, json_object_get(b, key)))
                return false;
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);
}
