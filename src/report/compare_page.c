/* compare.html: runs side by side on one self-contained page, assembled
 * like report.html (page.c): the head with its Content-Security-Policy, the
 * styles (report.css, then compare.css), the body, the data as inline JSON
 * (compare_json with every run's final weights, compare_weights), the
 * weights' codes as text, then Chart.js, the code both pages share and the
 * page's own script. Nothing is read from or written to a run directory but
 * its model, read. */
#include <stdio.h>
#include <stdlib.h>

#include "report/compare.h"
#include "report/page.h"

nncl_status compare_write_html(const compare_set *s, const char *path)
{
    json_t *data = compare_json(s);
    if (!data)
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the comparison's data");
    char *codes = NULL, *json = NULL;
    size_t codes_len = 0;
    nncl_status st = compare_weights(s, data, &codes, &codes_len);
    if (st != NNCL_OK)
        goto done;
    const char *dname = json_string_value(json_object_get(data, "data"));
    char title[512];
    snprintf(title, sizeof title, "%d run%s on %s", s->n_runs, s->n_runs == 1 ? "" : "s",
             dname ? dname : "different data");
    json_object_set_new(data, "title", json_string(title));
    json_object_set_new(data, "format", json_integer(1));
    json = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!json) {
        st = nncl_fail(NNCL_E_NOMEM, "out of memory writing the comparison's data");
        goto done;
    }
    static const char *const styles[] = {"report.css", "compare.css", NULL};
    page_parts parts = {.title_prefix = "nncl compare:", .title = title, .styles = styles, .body = "compare.html",
                        .json = json, .codes = codes, .codes_len = codes_len, .script = "compare.js"};
    st = page_write(path, &parts);
done:
    free(json);
    free(codes);
    json_decref(data);
    return st;
}
