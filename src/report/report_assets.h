/* The report page's styles, body, script and charting library, embedded at
 * build time by tools/embed_files.py (so an installed nncl needs no source
 * tree and the page needs no network). */
#ifndef NNCL_REPORT_ASSETS_H
#define NNCL_REPORT_ASSETS_H

#include "device/kernels_embedded.h"

extern const nncl_embedded_source report_assets[];
extern const int report_asset_count;

#endif
