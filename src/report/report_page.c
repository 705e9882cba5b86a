/* report.html: one self-contained page. Its data and weights go in inline
 * <script> blocks that are not run (JSON, text), then Chart.js, the code the
 * pages share and the page's own script; a Content-Security-Policy forbids
 * every request, so the page works from a USB stick and cannot phone
 * anywhere. The pieces are page.c's, shared with compare.html. */
#include <stdlib.h>
#include <string.h>

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
    page p = {0};
    page_head(&p, "nncl report:", json_string_value(json_object_get(data, "title")));
    page_puts(&p, "<style>");
    page_put_asset(&p, "report.css");
    page_puts(&p, "</style></head>\n<body>\n");
    page_put_asset(&p, "report.html");
    page_puts(&p, "\n<script id=\"nncl-data\" type=\"application/json\">");
    page_put_script_safe(&p, json);
    page_puts(&p, "</script>\n<script id=\"nncl-weights\" type=\"text/plain\">");
    page_put(&p, codes, codes_len);
    page_puts(&p, "</script>\n<script>");
    page_put_asset(&p, "chart.min.js");
    page_puts(&p, "</script>\n<script>");
    page_put_asset(&p, "common.js");
    page_puts(&p, "</script>\n<script>");
    page_put_asset(&p, "report.js");
    page_puts(&p, "</script>\n</body></html>\n");
    st = page_finish(&p, out_path);
done:
    free(json);
    free(codes);
    json_decref(data);
    run_record_free(&r);
    return st;
}
