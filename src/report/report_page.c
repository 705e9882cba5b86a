/* report.html: one self-contained page. Its data and weights go in inline
 * <script> blocks that are not run (JSON, text), then Chart.js, the code the
 * pages share and the page's own script; a Content-Security-Policy forbids
 * every request, so the page works from a USB stick and cannot phone
 * anywhere. The pieces are page.c's, shared with compare.html. */
#include <stdlib.h>

#include "report/page.h"
#include "report/report.h"
#include "report/report_json.h"

nncl_status report_write_html(const char *run_dir, const char *out_path)
{
    run_record r;
    nncl_status st = run_record_load(run_dir, &r);
    if (st != NNCL_OK)
        return st;
    json_t *data = NULL;
    char *codes = NULL, *json = NULL;
    size_t codes_len = 0;
    if ((st = report_data(&r, &data, &codes, &codes_len)) != NNCL_OK)
        goto done;
    json = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!json) {
        st = nncl_fail(NNCL_E_NOMEM, "out of memory writing the report's data");
        goto done;
    }
    static const char *const styles[] = {"report.css", NULL};
    page_parts parts = {.title_prefix = "nncl report:", .title = json_string_value(json_object_get(data, "title")),
                        .styles = styles, .body = "report.html", .json = json, .codes = codes, .codes_len = codes_len,
                        .script = "report.js"};
    st = page_write(out_path, &parts);
done:
    free(json);
    free(codes);
    json_decref(data);
    run_record_free(&r);
    return st;
}
